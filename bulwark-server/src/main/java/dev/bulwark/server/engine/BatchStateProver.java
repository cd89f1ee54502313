package dev.bulwark.server.engine;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.state.NodeLoader;
import dev.bulwark.core.state.NodeRef;
import dev.bulwark.core.state.StateEntryProof;
import dev.bulwark.core.state.StateNode;
import dev.bulwark.core.state.StateProof;
import dev.bulwark.core.state.StateTrie;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Proves many keys of one state root in one walk down the trie, for the receipts of a batch.
 *
 * <p>Why not {@link StateEntryProof#of} per key: that walks from the root for every key (the
 * upper levels, shared by every key of the batch, are loaded and encoded again for each), and
 * then re-hashes the whole proof to check it, which doubles the cost and can only fail on a
 * bug. Here the keys are sorted by key hash and walked together: each node on the union of
 * their paths is loaded and encoded once, and the proofs share those encodings.
 *
 * <p>What is still checked, cheaply: the root node hashes to the root (once per walk), each
 * child is loaded by the hash its parent holds, and each proven value is the one the batch
 * wrote for that key, so a trie that disagreed with the batch's writes fails the batch's
 * proofs instead of going into receipts.
 */
final class BatchStateProver {
  private BatchStateProver() {}

  /** A key with its hash, in the order the trie is walked. */
  private record Keyed(Digest keyHash, Bytes key) {}

  /**
   * Proofs of {@code keys} (distinct) under {@code root}, by key. {@code written} holds the value
   * the batch wrote for each key (empty: deleted); a key it holds must prove that value.
   *
   * @throws IllegalStateException if the trie does not show what the batch wrote (a bug)
   */
  static Map<Bytes, StateEntryProof> prove(NodeLoader loader, Digest root, List<Bytes> keys,
      Map<Bytes, Optional<Bytes>> written) {
    Map<Bytes, StateEntryProof> out = HashMap.newHashMap(keys.size());
    if (keys.isEmpty()) {
      return out;
    }
    if (root.equals(StateTrie.EMPTY_ROOT)) {
      for (Bytes key : keys) {
        out.put(key, checked(new StateEntryProof(key, Optional.empty(), new StateProof(List.of())), written));
      }
      return out;
    }
    Keyed[] sorted = new Keyed[keys.size()];
    for (int i = 0; i < sorted.length; i++) {
      Bytes key = keys.get(i);
      sorted[i] = new Keyed(Digest.sha256(key), key);
    }
    Arrays.sort(sorted, (a, b) -> Arrays.compareUnsigned(a.keyHash().unsafeArray(), b.keyHash().unsafeArray()));
    StateNode rootNode = loader.load(loader.root(root));
    if (!rootNode.hash().equals(root)) {
      throw new IllegalStateException("the root node loaded for " + root + " hashes to " + rootNode.hash());
    }
    new Walk(loader, sorted, written, out).descend(rootNode, 0, 0, sorted.length);
    return out;
  }

  private static StateEntryProof checked(StateEntryProof proof, Map<Bytes, Optional<Bytes>> written) {
    Optional<Bytes> wrote = written.get(proof.key());
    if (wrote != null && !wrote.equals(proof.value())) {
      throw new IllegalStateException("the new state trie does not hold what the batch wrote for key " + proof.key());
    }
    return proof;
  }

  /** One walk: the encodings on the current path, root first, shared by every key below it. */
  private static final class Walk {
    private final NodeLoader loader;
    private final Keyed[] keys;
    private final Map<Bytes, Optional<Bytes>> written;
    private final Map<Bytes, StateEntryProof> out;
    private final List<Bytes> path = new ArrayList<>();

    Walk(NodeLoader loader, Keyed[] keys, Map<Bytes, Optional<Bytes>> written, Map<Bytes, StateEntryProof> out) {
      this.loader = loader;
      this.keys = keys;
      this.written = written;
      this.out = out;
    }

    /** Proves keys[from, to), whose paths all pass through {@code node} at {@code depth}. */
    void descend(StateNode node, int depth, int from, int to) {
      if (depth > StateTrie.DEPTH_MAX) {
        throw new IllegalStateException("state trie deeper than a key hash");
      }
      path.add(node.encoding());
      switch (node) {
        case StateNode.Leaf leaf -> {
          for (int i = from; i < to; i++) {
            Bytes key = keys[i].key();
            finish(key, leaf.key().equals(key) ? Optional.of(leaf.value()) : Optional.empty());
          }
        }
        case StateNode.Internal internal -> {
          int i = from;
          while (i < to) {
            int nib = StateTrie.nibble(keys[i].keyHash(), depth);
            int end = i + 1;
            while (end < to && StateTrie.nibble(keys[end].keyHash(), depth) == nib) {
              end++;
            }
            if (!internal.hasChild(nib)) {
              for (int k = i; k < end; k++) {
                finish(keys[k].key(), Optional.empty());
              }
            } else {
              Digest keyHash = keys[i].keyHash();
              NodeRef ref = new NodeRef(internal.child(nib), internal.childVersion(nib), depth + 1,
                  NodeRef.pathOf(keyHash, depth + 1));
              descend(loader.load(ref), depth + 1, i, end);
            }
            i = end;
          }
        }
      }
      path.removeLast();
    }

    private void finish(Bytes key, Optional<Bytes> value) {
      out.put(key, checked(new StateEntryProof(key, value, new StateProof(path)), written));
    }
  }
}
