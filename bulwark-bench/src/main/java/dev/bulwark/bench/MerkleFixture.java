package dev.bulwark.bench;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.merkle.MerkleHash;
import dev.bulwark.core.merkle.MerkleLog;
import dev.bulwark.core.merkle.MerkleLogState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * Merkle logs for the benchmarks: deterministic leaves (leaf {@code i} is the 8-byte
 * big-endian {@code i}, so its hash can be recomputed from the index alone, which lets a log
 * built in several sittings stay one log), and a log prefix built in memory.
 */
final class MerkleFixture {
  private MerkleFixture() {}

  /** A store with nothing in it. */
  static final ReadView EMPTY = new ReadView() {
    @Override public Optional<Bytes> get(Bytes key) {
      return Optional.empty();
    }

    @Override public Cursor scan(KeyRange range) {
      return Cursor.of(Collections.emptyIterator());
    }
  };

  /** The RFC 9162 leaf hash of leaf {@code index}: SHA-256(0x00 || index as 8 bytes big-endian). */
  static Digest leafHash(long index) {
    byte[] leaf = new byte[Long.BYTES];
    for (int i = 0; i < Long.BYTES; i++) {
      leaf[i] = (byte) (index >>> (56 - 8 * i));
    }
    return MerkleHash.leaf(Bytes.adopt(leaf));
  }

  /** The leaf hashes of leaves {@code first} to {@code first + count - 1}. */
  static List<Digest> leafHashes(long first, int count) {
    List<Digest> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(leafHash(first + i));
    }
    return out;
  }

  /** A log of {@code size} leaves as committed writes seen over an empty store, and its state. */
  record Prefix(ReadView view, MerkleLogState state, int keys) {}

  /**
   * Builds the first {@code size} leaves of {@code log} in memory: one transaction over the
   * empty store, appended in batches of {@code batch}, committed to a {@link WriteSet} that is
   * then read like a snapshot ({@code WriteSet.over}). About two stored subtree hashes per
   * leaf; a million leaves take a few hundred MB of heap and a few seconds. The state is
   * reloaded from the view ({@code MerkleLog.load}) and checked against the one the appends
   * returned.
   */
  static Prefix inMemory(MerkleLog log, long size, int batch) {
    Transaction tx = new Transaction(EMPTY);
    MerkleLogState state = MerkleLogState.EMPTY;
    while (state.size() < size) {
      int n = (int) Math.min(batch, size - state.size());
      state = log.append(tx, state, leafHashes(state.size(), n));
    }
    WriteSet writes = tx.commit();
    ReadView view = writes.over(EMPTY);
    MerkleLogState loaded = log.load(view);
    if (!loaded.equals(state)) {
      throw new IllegalStateException("log reloaded from the prefix differs: " + loaded.size() + " leaves vs " + size);
    }
    return new Prefix(view, state, writes.size());
  }

  /** A view that counts the reads made through it, to show which paths read the store at all. */
  static final class CountingView implements ReadView {
    private final ReadView base;
    long gets;
    long scans;

    CountingView(ReadView base) {
      this.base = base;
    }

    @Override public Optional<Bytes> get(Bytes key) {
      gets++;
      return base.get(key);
    }

    @Override public Cursor scan(KeyRange range) {
      scans++;
      return base.scan(range);
    }
  }
}
