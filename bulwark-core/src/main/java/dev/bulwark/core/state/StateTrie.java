package dev.bulwark.core.state;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The authenticated state: a 16-ary Merkle radix trie over the SHA-256 of each key, whose
 * nodes are content-addressed (a node's hash is the SHA-256 of its encoding, see
 * {@link StateNode}). Persistent and immutable: an update writes new nodes along the changed
 * paths and shares everything else with the old root, so every retained root stays readable.
 *
 * <p><b>Shape.</b> A leaf sits at the shallowest depth where no other key shares its path;
 * an internal node exists exactly where two or more keys share a path. The shape, and so the
 * root, depends only on the set of keys and values, never on the order of updates, so
 * replicas and auditors can compare roots.
 *
 * <p><b>Why 16-ary with flat hashing.</b> A batch of k updates over n keys rewrites about
 * k·(log16(n) - log16(k)) + k nodes, one SHA-256 each over at most 515 bytes; a binary trie
 * would write four times as many nodes. The price is proof size: up to 15 sibling hashes per
 * level instead of one, about 2.5 KB for a million keys, which is still O(log n).
 *
 * <p>This class is pure: nodes come from a {@link NodeLoader} and new ones go to a
 * {@link NodeSink}; the store decides where they live.
 */
public final class StateTrie {
  /** The root of the empty state: the hash of an internal node with no children, never stored. */
  public static final Digest EMPTY_ROOT = Digest.sha256(new byte[] {StateNode.INTERNAL_TAG, 0, 0});

  /** Depth of the deepest possible node: one per nibble of a 256-bit key hash. */
  public static final int DEPTH_MAX = 64;

  private StateTrie() {}

  /** Receives each node a batch creates, to be stored under its hash. */
  @FunctionalInterface
  public interface NodeSink {
    void write(StateNode node);
  }

  /**
   * The outcome of a batch: the new root, the nodes it created, and the nodes of the old tree it
   * made unreachable from the new root (candidates for garbage collection once no retained root
   * needs them).
   */
  public record Result(Digest root, List<Digest> created, List<Digest> stale) {}

  /** Nibble {@code depth} (0 = high half of the first byte) of a key hash. */
  public static int nibble(Digest keyHash, int depth) {
    int b = keyHash.unsafeArray()[depth >>> 1] & 0xFF;
    return (depth & 1) == 0 ? b >>> 4 : b & 0x0F;
  }

  /** Whether two key hashes agree on their first {@code depth} nibbles. */
  public static boolean sharesPrefix(Digest a, Digest b, int depth) {
    for (int i = 0; i < depth; i++) {
      if (nibble(a, i) != nibble(b, i)) {
        return false;
      }
    }
    return true;
  }

  /** The value of {@code key} under {@code root}. */
  public static Optional<Bytes> get(NodeLoader loader, Digest root, Bytes key) {
    if (root.equals(EMPTY_ROOT)) {
      return Optional.empty();
    }
    Digest keyHash = Digest.sha256(key);
    Digest at = root;
    for (int depth = 0; depth <= DEPTH_MAX; depth++) {
      switch (loader.load(at)) {
        case StateNode.Leaf leaf -> {
          return leaf.key().equals(key) ? Optional.of(leaf.value()) : Optional.empty();
        }
        case StateNode.Internal internal -> {
          at = internal.child(nibble(keyHash, depth));
          if (at == null) {
            return Optional.empty();
          }
        }
      }
    }
    throw new IllegalStateException("state trie deeper than a key hash under root " + root);
  }

  /** A proof of {@code key}'s value or absence under {@code root}. */
  public static StateProof prove(NodeLoader loader, Digest root, Bytes key) {
    List<Bytes> path = new ArrayList<>();
    if (root.equals(EMPTY_ROOT)) {
      return new StateProof(path);
    }
    Digest keyHash = Digest.sha256(key);
    Digest at = root;
    for (int depth = 0; depth <= DEPTH_MAX; depth++) {
      StateNode node = loader.load(at);
      path.add(node.encoding());
      if (node instanceof StateNode.Internal internal) {
        at = internal.child(nibble(keyHash, depth));
        if (at == null) {
          return new StateProof(path);
        }
      } else {
        return new StateProof(path);
      }
    }
    throw new IllegalStateException("state trie deeper than a key hash under root " + root);
  }

  /**
   * Applies a batch of updates to the tree under {@code root} in one pass and returns the new
   * root. Updates are grouped by path, so every node on a changed path is rebuilt and hashed
   * exactly once, however many updates pass through it. A later update of the same key in the
   * list wins.
   */
  public static Result update(NodeLoader loader, Digest root, List<StateUpdate> updates, NodeSink sink) {
    Pending[] pending = sortedUnique(updates);
    Updater updater = new Updater(loader, sink);
    Sub oldRoot = root.equals(EMPTY_ROOT) ? null : new Sub(root, null);
    Sub newRoot = updater.update(oldRoot, 0, pending, 0, pending.length);
    Digest newRootHash = newRoot == null ? EMPTY_ROOT : newRoot.hash();
    if (newRoot != null && newRoot != oldRoot) {
      updater.placed.add(newRoot.hash());
    }
    List<Digest> stale = new ArrayList<>();
    for (Digest d : updater.replaced) {
      if (!updater.placed.contains(d)) {
        stale.add(d);
      }
    }
    return new Result(newRootHash, List.copyOf(updater.created), List.copyOf(stale));
  }

  /** An update with its key hash, the order the trie is walked in. */
  private record Pending(Digest keyHash, Bytes key, Optional<Bytes> value) {}

  private static Pending[] sortedUnique(List<StateUpdate> updates) {
    Pending[] all = new Pending[updates.size()];
    for (int i = 0; i < all.length; i++) {
      StateUpdate u = updates.get(i);
      all[i] = new Pending(Digest.sha256(u.key()), u.key(), u.value());
    }
    // Stable sort: among updates of one key, the last one ends up last.
    Arrays.sort(all, Comparator.comparing(Pending::keyHash));
    List<Pending> unique = new ArrayList<>(all.length);
    for (int i = 0; i < all.length; i++) {
      if (i + 1 < all.length && all[i + 1].keyHash().equals(all[i].keyHash())) {
        if (!all[i + 1].key().equals(all[i].key())) {
          throw new IllegalStateException("two keys with one SHA-256: " + all[i].key() + ", " + all[i + 1].key());
        }
        continue;
      }
      unique.add(all[i]);
    }
    return unique.toArray(new Pending[0]);
  }

  /** A subtree: its hash, and its node once loaded or built. */
  private record Sub(Digest hash, StateNode node) {
    StateNode load(NodeLoader loader) {
      return node != null ? node : loader.load(hash);
    }
  }

  /** A key-value pair of a subtree being built: an existing leaf, or a new one to write. */
  private record Entry(Digest keyHash, StateNode.Leaf leaf, Digest existingHash) {}

  private static final class Updater {
    private final NodeLoader loader;
    private final NodeSink sink;
    final Set<Digest> replaced = new HashSet<>();
    final Set<Digest> placed = new HashSet<>();
    final List<Digest> created = new ArrayList<>();

    Updater(NodeLoader loader, NodeSink sink) {
      this.loader = loader;
      this.sink = sink;
    }

    Sub update(Sub current, int depth, Pending[] ups, int from, int to) {
      if (from == to) {
        return current;
      }
      if (depth > DEPTH_MAX) {
        throw new IllegalStateException("state trie deeper than a key hash");
      }
      if (current == null) {
        return build(depth, entries(null, null, ups, from, to));
      }
      StateNode node = current.load(loader);
      return switch (node) {
        case StateNode.Leaf leaf -> {
          Sub result = build(depth, entries(leaf, current.hash(), ups, from, to));
          if (result == null || !result.hash().equals(current.hash())) {
            replaced.add(current.hash());
          }
          yield result;
        }
        case StateNode.Internal internal -> updateInternal(current, internal, depth, ups, from, to);
      };
    }

    private Sub updateInternal(Sub current, StateNode.Internal internal, int depth, Pending[] ups, int from, int to) {
      Digest[] children = internal.children();
      Sub[] subs = new Sub[16];
      for (int i = 0; i < 16; i++) {
        subs[i] = children[i] == null ? null : new Sub(children[i], null);
      }
      boolean changed = false;
      int i = from;
      while (i < to) {
        int nib = nibble(ups[i].keyHash(), depth);
        int j = i + 1;
        while (j < to && nibble(ups[j].keyHash(), depth) == nib) {
          j++;
        }
        Sub updated = update(subs[nib], depth + 1, ups, i, j);
        if (updated != subs[nib] && (updated == null || subs[nib] == null || !updated.hash().equals(subs[nib].hash()))) {
          changed = true;
        }
        subs[nib] = updated;
        i = j;
      }
      if (!changed) {
        return current;
      }
      replaced.add(current.hash());
      int count = 0;
      Sub only = null;
      Digest[] newChildren = new Digest[16];
      for (int n = 0; n < 16; n++) {
        if (subs[n] != null) {
          count++;
          only = subs[n];
          newChildren[n] = subs[n].hash();
        }
      }
      if (count == 0) {
        return null;
      }
      if (count == 1) {
        StateNode single = only.load(loader);
        if (single instanceof StateNode.Leaf) {
          // A lone leaf moves up to where its path becomes unique.
          Sub moved = new Sub(only.hash(), single);
          placed.add(moved.hash());
          return moved;
        }
      }
      return write(StateNode.Internal.of(newChildren));
    }

    /** The existing leaf (if any) and the updates of this subtree, as sorted unique entries. */
    private List<Entry> entries(StateNode.Leaf existing, Digest existingHash, Pending[] ups, int from, int to) {
      List<Entry> out = new ArrayList<>(to - from + 1);
      Digest existingKeyHash = existing == null ? null : existing.keyHash();
      boolean existingHandled = existing == null;
      for (int i = from; i < to; i++) {
        Pending p = ups[i];
        if (!existingHandled) {
          int order = existingKeyHash.compareTo(p.keyHash());
          if (order < 0) {
            out.add(new Entry(existingKeyHash, existing, existingHash));
            existingHandled = true;
          } else if (order == 0) {
            existingHandled = true;
            if (!existing.key().equals(p.key())) {
              throw new IllegalStateException("two keys with one SHA-256: " + existing.key() + ", " + p.key());
            }
            if (p.value().isPresent() && p.value().get().equals(existing.value())) {
              out.add(new Entry(existingKeyHash, existing, existingHash)); // unchanged value
              continue;
            }
            if (p.value().isEmpty()) {
              continue; // deleted
            }
          }
        }
        if (p.value().isPresent()) {
          out.add(new Entry(p.keyHash(), StateNode.Leaf.of(p.key(), p.value().get()), null));
        }
      }
      if (!existingHandled) {
        out.add(new Entry(existingKeyHash, existing, existingHash));
      }
      return out;
    }

    /** The canonical subtree holding exactly {@code entries}, which share their first {@code depth} nibbles. */
    private Sub build(int depth, List<Entry> entries) {
      if (entries.isEmpty()) {
        return null;
      }
      if (entries.size() == 1) {
        Entry e = entries.getFirst();
        if (e.existingHash() != null) {
          Sub kept = new Sub(e.existingHash(), e.leaf());
          placed.add(kept.hash());
          return kept;
        }
        return write(e.leaf());
      }
      if (depth >= DEPTH_MAX) {
        throw new IllegalStateException("two keys with one SHA-256 at depth " + depth);
      }
      Digest[] children = new Digest[16];
      int i = 0;
      while (i < entries.size()) {
        int nib = nibble(entries.get(i).keyHash(), depth);
        int j = i + 1;
        while (j < entries.size() && nibble(entries.get(j).keyHash(), depth) == nib) {
          j++;
        }
        children[nib] = build(depth + 1, entries.subList(i, j)).hash();
        i = j;
      }
      return write(StateNode.Internal.of(children));
    }

    private Sub write(StateNode node) {
      sink.write(node);
      created.add(node.hash());
      placed.add(node.hash());
      return new Sub(node.hash(), node);
    }
  }
}
