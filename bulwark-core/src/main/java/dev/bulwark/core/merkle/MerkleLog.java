package dev.bulwark.core.merkle;

import dev.bulwark.core.CorruptionException;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.codec.KeyCodec;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.table.IntentTable;
import dev.bulwark.core.table.Table;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A persistent, append-only RFC 9162 Merkle log kept in the store. Every complete subtree's
 * hash is written once, when its last leaf arrives (about two writes per leaf), so appending
 * is O(log n) hash work with no reads, and a tree head or proof for any past size is
 * O(log n) point reads. Several logs share the tables, told apart by name.
 *
 * <p>The caller holds the {@link MerkleLogState} and replaces it with the one {@link #append}
 * returns once the transaction commits; a transaction that does not commit leaves the old
 * state valid.
 */
public final class MerkleLog {
  /** Key of one stored subtree hash: which log, which level, which index at that level. */
  public record NodeKey(String log, int level, long index) {}

  static final KeyCodec<NodeKey> NODE_KEY = Codecs.keyRecord("bulwark.MerkleNodeKey",
      Codecs.field("log", Codecs.keyUtf8(), NodeKey::log),
      Codecs.field("level", Codecs.u8(), NodeKey::level),
      Codecs.field("index", Codecs.u64(), NodeKey::index),
      NodeKey::new);

  /** Subtree hashes of every log. */
  public static final IntentTable<NodeKey, Digest> NODES =
      IntentTable.of("bulwark.merkle-node", 1, NODE_KEY, Codecs.digest());
  /** Each log's size. */
  public static final IntentTable<String, Long> SIZES =
      IntentTable.of("bulwark.merkle-size", 1, Codecs.keyUtf8(), Codecs.varU64());
  /** The tables a store must register to hold Merkle logs. */
  public static final List<Table<?>> TABLES = List.of(NODES, SIZES);

  private final String name;

  public MerkleLog(String name) {
    this.name = name;
  }

  public String name() {
    return name;
  }

  /** Reads the log's size and frontier: O(log n) point reads. */
  public MerkleLogState load(ReadView view) {
    long size = SIZES.get(view, name).orElse(0L);
    List<Digest> frontier = new ArrayList<>(Long.bitCount(size));
    long start = 0;
    for (int level = 63; level >= 0; level--) {
      if ((size & (1L << level)) != 0) {
        frontier.add(node(view, level, start >>> level));
        start += 1L << level;
      }
    }
    return new MerkleLogState(size, frontier);
  }

  /**
   * Appends leaves (given by their leaf hashes, see {@link MerkleHash#leaf}) in {@code tx} and
   * returns the state after them. A whole batch at once is the fast path: each new complete
   * subtree is hashed and written exactly once.
   */
  public MerkleLogState append(Transaction tx, MerkleLogState state, List<Digest> leafHashes) {
    return append(tx, state, leafHashes, null);
  }

  /** The log after an append, with the inclusion proof of every appended leaf in it. */
  public record Appended(MerkleLogState state, List<InclusionProof> proofs) {}

  /**
   * Appends like {@link #append} and also proves every new leaf in the new tree, without a
   * single read: a new leaf's left siblings are the old frontier's subtrees (any smaller one
   * would contain the leaf), and its right siblings are built from nodes this append wrote.
   * This is per-batch mode's fast path: one head signature, these proofs, no store reads.
   */
  public Appended appendAndProve(Transaction tx, MerkleLogState state, List<Digest> leafHashes) {
    Map<NodeKey, Digest> touched = new HashMap<>(4 * leafHashes.size() + 2 * state.frontier().size());
    long start = 0;
    for (int i = 0, level = 63; level >= 0; level--) {
      if ((state.size() & (1L << level)) != 0) {
        touched.put(new NodeKey(name, level, start >>> level), state.frontier().get(i++));
        start += 1L << level;
      }
    }
    MerkleLogState after = append(tx, state, leafHashes, touched);
    NodeSource nodes = (level, index) -> {
      Digest d = touched.get(new NodeKey(name, level, index));
      if (d == null) {
        throw new IllegalStateException("node (" + level + ", " + index + ") is neither new nor on the old frontier");
      }
      return d;
    };
    List<InclusionProof> proofs = new ArrayList<>(leafHashes.size());
    for (long leaf = state.size(); leaf < after.size(); leaf++) {
      proofs.add(MerkleProofs.inclusion(nodes, leaf, after.size()));
    }
    return new Appended(after, proofs);
  }

  private MerkleLogState append(Transaction tx, MerkleLogState state, List<Digest> leafHashes,
      Map<NodeKey, Digest> written) {
    long size = state.size();
    ArrayList<Digest> frontier = new ArrayList<>(state.frontier());
    for (Digest leaf : leafHashes) {
      if (size == Long.MAX_VALUE) {
        throw new IllegalStateException("Merkle log " + name + " is full");
      }
      putNode(tx, new NodeKey(name, 0, size), leaf, written);
      Digest current = leaf;
      int merges = Long.numberOfTrailingZeros(~size);
      for (int level = 1; level <= merges; level++) {
        current = MerkleHash.node(frontier.removeLast(), current);
        putNode(tx, new NodeKey(name, level, size >>> level), current, written);
      }
      frontier.add(current);
      size++;
    }
    SIZES.put(tx, name, size);
    return new MerkleLogState(size, frontier);
  }

  private static void putNode(Transaction tx, NodeKey key, Digest hash, Map<NodeKey, Digest> written) {
    NODES.put(tx, key, hash);
    if (written != null) {
      written.put(key, hash);
    }
  }

  /** The stored subtree hashes of this log, as seen by {@code view}. */
  public NodeSource nodes(ReadView view) {
    return (level, index) -> node(view, level, index);
  }

  private Digest node(ReadView view, int level, long index) {
    return NODES.get(view, new NodeKey(name, level, index)).orElseThrow(() -> new CorruptionException(
        "Merkle log " + name + " node (" + level + ", " + index + ")", "missing subtree hash"));
  }

  /** The tree head of the first {@code size} leaves (any size up to the current one). */
  public Digest root(ReadView view, long size) {
    checkSize(view, size);
    return MerkleProofs.root(nodes(view), size);
  }

  public InclusionProof inclusionProof(ReadView view, long leafIndex, long treeSize) {
    checkSize(view, treeSize);
    return MerkleProofs.inclusion(nodes(view), leafIndex, treeSize);
  }

  public ConsistencyProof consistencyProof(ReadView view, long firstSize, long secondSize) {
    checkSize(view, secondSize);
    return MerkleProofs.consistency(nodes(view), firstSize, secondSize);
  }

  private void checkSize(ReadView view, long treeSize) {
    long size = SIZES.get(view, name).orElse(0L);
    if (treeSize > size) {
      throw new IllegalArgumentException("Merkle log " + name + " has " + size + " leaves, not " + treeSize);
    }
  }
}
