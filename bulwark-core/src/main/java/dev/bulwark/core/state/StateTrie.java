package dev.bulwark.core.state;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The authenticated state: a 16-ary Merkle radix trie over the SHA-256 of each key, whose
 * nodes are hashed like content (a node's hash is the SHA-256 of its encoding, see
 * {@link StateNode}) but stored under the version that wrote them and their path (see
 * {@link NodeRef}). Persistent and immutable: an update writes new nodes along the changed
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
 * <p><b>Cost.</b> The walk never copies a child hash it does not change (a rebuilt node copies
 * the unchanged children's bytes straight from the old encoding), hashes with one reused
 * engine, and writes a node only when its place is final, so a leaf that moves up is written
 * once, where it ends.
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

  /** Receives each node a batch creates, to be stored at {@code ref} (its version and path). */
  @FunctionalInterface
  public interface NodeSink {
    void write(NodeRef ref, StateNode node);
  }

  /**
   * The outcome of a batch: the new root and the version that wrote its node, the nodes the
   * batch wrote, and the nodes of the old tree that are not in the new one ("stale": garbage
   * once no retained root needs them). Nodes are never written twice under one reference, so
   * a stale node stays out of every later tree.
   */
  public record Result(Digest root, long rootVersion, List<NodeRef> created, List<NodeRef> stale) {}

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

  /** The reference of child {@code nib} of {@code internal}, which sits at depth {@code depth} on {@code keyHash}'s path. */
  private static NodeRef childRef(StateNode.Internal internal, int nib, Digest keyHash, int depth) {
    Digest child = internal.child(nib);
    return child == null ? null : new NodeRef(child, internal.childVersion(nib), depth + 1, NodeRef.pathOf(keyHash, depth + 1));
  }

  /**
   * Child {@code nib} (present) of {@code parent} at {@code depth}: linked, or loaded. Reads
   * follow links but make none: only updates link, so only the trees they build pin memory.
   */
  private static StateNode child(NodeLoader loader, StateNode.Internal parent, int nib, Digest keyHash, int depth) {
    StateNode linked = parent.linked(nib);
    return linked != null ? linked : loader.load(childRef(parent, nib, keyHash, depth));
  }

  /**
   * Links the upper levels of the tree under {@code root}, down to {@link NodeLoader#linkDepth()},
   * into its root node in memory (loading what is not linked yet), so the next updates start
   * with them in place. Returns the root node (null for the empty root) and how many nodes it
   * loaded.
   */
  public static StateNode linkUpperLevels(NodeLoader loader, Digest root, long[] loaded) {
    if (root.equals(EMPTY_ROOT)) {
      return null;
    }
    NodeRef rootRef = loader.root(root);
    StateNode node = loader.load(rootRef);
    loaded[0]++;
    linkBelow(loader, node, rootRef, loader.linkDepth(), loaded);
    return node;
  }

  private static void linkBelow(NodeLoader loader, StateNode node, NodeRef at, int linkDepth, long[] loaded) {
    if (!(node instanceof StateNode.Internal internal) || at.depth() + 1 > linkDepth) {
      return;
    }
    for (int n = 0; n < 16; n++) {
      if (internal.hasChild(n)) {
        NodeRef ref = new NodeRef(internal.child(n), internal.childVersion(n), at.depth() + 1,
            NodeRef.childPath(at.path(), at.depth(), n));
        StateNode child = internal.linked(n);
        if (child == null) {
          child = loader.load(ref);
          loaded[0]++;
          internal.link(n, child);
        }
        linkBelow(loader, child, ref, linkDepth, loaded);
      }
    }
  }

  /** The value of {@code key} under {@code root}. */
  public static Optional<Bytes> get(NodeLoader loader, Digest root, Bytes key) {
    if (root.equals(EMPTY_ROOT)) {
      return Optional.empty();
    }
    Digest keyHash = Digest.sha256(key);
    StateNode node = loader.load(loader.root(root));
    for (int depth = 0; depth <= DEPTH_MAX; depth++) {
      switch (node) {
        case StateNode.Leaf leaf -> {
          return leaf.key().equals(key) ? Optional.of(leaf.value()) : Optional.empty();
        }
        case StateNode.Internal internal -> {
          int nib = nibble(keyHash, depth);
          if (!internal.hasChild(nib)) {
            return Optional.empty();
          }
          node = child(loader, internal, nib, keyHash, depth);
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
    StateNode node = loader.load(loader.root(root));
    for (int depth = 0; depth <= DEPTH_MAX; depth++) {
      path.add(node.encoding());
      if (node instanceof StateNode.Internal internal) {
        int nib = nibble(keyHash, depth);
        if (!internal.hasChild(nib)) {
          return new StateProof(path);
        }
        node = child(loader, internal, nib, keyHash, depth);
      } else {
        return new StateProof(path);
      }
    }
    throw new IllegalStateException("state trie deeper than a key hash under root " + root);
  }

  /**
   * Applies a batch of updates to the tree under {@code root} in one pass, as {@code version},
   * and returns the new root. Updates are grouped by path, so every node on a changed path is
   * rebuilt and hashed exactly once, however many updates pass through it, and a node is
   * handed to {@code sink} only once its place in the new tree is final. A later update of the
   * same key in the list wins.
   */
  public static Result update(NodeLoader loader, Digest root, long version, List<StateUpdate> updates, NodeSink sink) {
    if (version < 0) {
      throw new IllegalArgumentException("versions are not negative: " + version);
    }
    Updater updater = new Updater(loader, sink, version);
    Pending[] pending = updater.sortedUnique(updates);
    Sub oldRoot = null;
    if (!root.equals(EMPTY_ROOT)) {
      NodeRef ref = loader.root(root);
      oldRoot = new Sub(root, ref.version(), null, false);
    }
    Sub newRoot = updater.update(oldRoot, 0, Bytes.EMPTY, pending, 0, pending.length);
    if (newRoot == null) {
      return new Result(EMPTY_ROOT, NodeRef.UNKNOWN_VERSION, List.copyOf(updater.created), List.copyOf(updater.stale));
    }
    updater.place(newRoot, 0, Bytes.EMPTY);
    return new Result(newRoot.hash(), newRoot.version(), List.copyOf(updater.created), List.copyOf(updater.stale));
  }

  /** An update with its key hash, the order the trie is walked in. */
  private record Pending(Digest keyHash, Bytes key, Optional<Bytes> value) {}

  /**
   * A subtree: its hash, the version that wrote (or will write) its node, the node once loaded
   * or built, and whether it is new in this batch and not yet written.
   */
  private record Sub(Digest hash, long version, StateNode node, boolean fresh) {}

  private static final class Updater {
    private final NodeLoader loader;
    private final NodeSink sink;
    private final long version;
    private final int linkDepth;
    private final MessageDigest sha = Digest.newSha256();
    /**
     * Child versions of the node being rebuilt, old and new: used only after the children's
     * recursion has returned and before the node is made, so one pair serves the whole walk.
     */
    private final long[] oldVersionScratch = new long[16];
    private final long[] versionScratch = new long[16];
    final List<NodeRef> stale = new ArrayList<>();
    final List<NodeRef> created = new ArrayList<>();

    Updater(NodeLoader loader, NodeSink sink, long version) {
      this.loader = loader;
      this.sink = sink;
      this.version = version;
      this.linkDepth = loader.linkDepth();
    }

    private Digest sha256(byte[] data) {
      sha.update(data);
      return Digest.finish(sha);
    }

    Pending[] sortedUnique(List<StateUpdate> updates) {
      Pending[] all = new Pending[updates.size()];
      for (int i = 0; i < all.length; i++) {
        StateUpdate u = updates.get(i);
        all[i] = new Pending(sha256(u.key().unsafeArray()), u.key(), u.value());
      }
      // Stable sort: among updates of one key, the last one ends up last.
      Arrays.sort(all, Comparator.comparing(Pending::keyHash));
      int n = 0;
      for (int i = 0; i < all.length; i++) {
        if (i + 1 < all.length && all[i + 1].keyHash().equals(all[i].keyHash())) {
          if (!all[i + 1].key().equals(all[i].key())) {
            throw new IllegalStateException("two keys with one SHA-256: " + all[i].key() + ", " + all[i + 1].key());
          }
          continue;
        }
        all[n++] = all[i];
      }
      return n == all.length ? all : Arrays.copyOf(all, n);
    }

    private StateNode load(Sub sub, int depth, Bytes path) {
      return sub.node() != null ? sub.node() : loader.load(new NodeRef(sub.hash(), sub.version(), depth, path));
    }

    private void markStale(Sub sub, int depth, Bytes path) {
      stale.add(new NodeRef(sub.hash(), sub.version(), depth, path));
    }

    /** Writes {@code sub} at (depth, path) if it is new; its place is final now. */
    void place(Sub sub, int depth, Bytes path) {
      if (sub.fresh()) {
        NodeRef ref = new NodeRef(sub.hash(), version, depth, path);
        sink.write(ref, sub.node());
        created.add(ref);
      }
    }

    /**
     * The subtree at {@code path} ({@code depth} nibbles) after the updates {@code ups[from, to)};
     * the very same {@code current} when nothing in it changes.
     */
    Sub update(Sub current, int depth, Bytes path, Pending[] ups, int from, int to) {
      if (from == to) {
        return current;
      }
      if (depth > DEPTH_MAX) {
        throw new IllegalStateException("state trie deeper than a key hash");
      }
      if (current == null) {
        List<Entry> entries = entries(null, ups, from, to);
        return build(depth, entries, 0, entries.size());
      }
      return switch (load(current, depth, path)) {
        case StateNode.Leaf leaf -> {
          List<Entry> entries = entries(leaf, ups, from, to);
          if (entries.size() == 1 && entries.getFirst().existing()) {
            yield current; // the same key with the same value
          }
          markStale(current, depth, path);
          yield build(depth, entries, 0, entries.size());
        }
        case StateNode.Internal internal -> updateInternal(current, internal, depth, path, ups, from, to);
      };
    }

    private Sub updateInternal(Sub current, StateNode.Internal internal, int depth, Bytes path, Pending[] ups, int from,
        int to) {
      Sub[] updated = new Sub[16];
      Bytes[] paths = new Bytes[16];
      int changedMask = 0;
      int presentAfter = internal.bitmap();
      int i = from;
      while (i < to) {
        int nib = nibble(ups[i].keyHash(), depth);
        int j = i + 1;
        while (j < to && nibble(ups[j].keyHash(), depth) == nib) {
          j++;
        }
        Bytes childPath = NodeRef.childPath(path, depth, nib);
        paths[nib] = childPath;
        Sub child = null;
        if (internal.hasChild(nib)) {
          StateNode node = internal.linked(nib);
          Digest hash = internal.child(nib);
          long childVersion = internal.childVersion(nib);
          if (node == null && depth + 1 <= linkDepth) {
            node = loader.load(new NodeRef(hash, childVersion, depth + 1, childPath));
            internal.link(nib, node);
          }
          child = new Sub(hash, childVersion, node, false);
        }
        Sub after = update(child, depth + 1, childPath, ups, i, j);
        if (after != child) {
          changedMask |= 1 << nib;
          updated[nib] = after;
          presentAfter = after == null ? presentAfter & ~(1 << nib) : presentAfter | (1 << nib);
        }
        i = j;
      }
      if (changedMask == 0) {
        return current;
      }
      markStale(current, depth, path);
      int count = Integer.bitCount(presentAfter);
      if (count == 0) {
        return null;
      }
      if (count == 1) {
        int nib = Integer.numberOfTrailingZeros(presentAfter);
        Sub only = (changedMask & (1 << nib)) != 0 ? updated[nib]
            : new Sub(internal.child(nib), internal.childVersion(nib), internal.linked(nib), false);
        Bytes onlyPath = paths[nib] != null ? paths[nib] : NodeRef.childPath(path, depth, nib);
        StateNode single = load(only, depth + 1, onlyPath);
        if (single instanceof StateNode.Leaf) {
          // A lone leaf moves up to where its path becomes unique: a new place, so a new node.
          if (!only.fresh()) {
            markStale(only, depth + 1, onlyPath);
          }
          return new Sub(only.hash(), version, single, true);
        }
      }
      // The versions first: they size the stored form, which is then filled in place.
      long[] oldVersions = oldVersionScratch;
      internal.childVersionsInto(oldVersions);
      long[] versions = versionScratch;
      int rank = 0;
      int oldRank = 0;
      for (int n = 0; n < 16; n++) {
        if ((presentAfter & (1 << n)) != 0) {
          versions[rank++] = (changedMask & (1 << n)) != 0 ? updated[n].version() : oldVersions[oldRank];
        }
        if (internal.hasChild(n)) {
          oldRank++;
        }
      }
      byte[] old = internal.array();
      byte[] out = StateNode.Internal.storedArray(presentAfter, versions);
      StateNode[] children = new StateNode[16];
      rank = 0;
      oldRank = 0;
      for (int n = 0; n < 16; n++) {
        boolean hadChild = internal.hasChild(n);
        if ((presentAfter & (1 << n)) != 0) {
          int at = StateNode.Internal.hashOffset(rank);
          if ((changedMask & (1 << n)) != 0) {
            Sub child = updated[n];
            place(child, depth + 1, paths[n]);
            System.arraycopy(child.hash().unsafeArray(), 0, out, at, Digest.LENGTH);
            children[n] = child.node();
          } else {
            System.arraycopy(old, StateNode.Internal.hashOffset(oldRank), out, at, Digest.LENGTH);
            children[n] = internal.linked(n);
          }
          rank++;
        }
        if (hadChild) {
          oldRank++;
        }
      }
      return internalSub(out, presentAfter, children, depth);
    }

    private Sub internalSub(byte[] stored, int bitmap, StateNode[] children, int depth) {
      sha.update(stored, 0, StateNode.Internal.hashOffset(Integer.bitCount(bitmap)));
      Digest hash = Digest.finish(sha);
      StateNode.Internal node = StateNode.Internal.built(stored, bitmap, hash);
      if (depth + 1 <= linkDepth) {
        for (int n = 0; n < 16; n++) {
          if (children[n] != null) {
            node.link(n, children[n]);
          }
        }
      }
      return new Sub(hash, version, node, true);
    }

    /** A key-value pair of a subtree being built; {@code existing} when it is the leaf already stored. */
    private record Entry(Digest keyHash, StateNode.Leaf leaf, boolean existing) {}

    /** The existing leaf (if any) and the updates of this subtree, as sorted unique entries. */
    private List<Entry> entries(StateNode.Leaf existing, Pending[] ups, int from, int to) {
      List<Entry> out = new ArrayList<>(to - from + 1);
      Digest existingKeyHash = existing == null ? null : existing.keyHash();
      boolean existingHandled = existing == null;
      for (int i = from; i < to; i++) {
        Pending p = ups[i];
        if (!existingHandled) {
          int order = existingKeyHash.compareTo(p.keyHash());
          if (order < 0) {
            out.add(new Entry(existingKeyHash, existing, true));
            existingHandled = true;
          } else if (order == 0) {
            existingHandled = true;
            if (!existing.hasKey(p.key())) {
              throw new IllegalStateException("two keys with one SHA-256: " + existing.key() + ", " + p.key());
            }
            if (p.value().isPresent() && existing.hasValue(p.value().get())) {
              out.add(new Entry(existingKeyHash, existing, true)); // unchanged value
              continue;
            }
            if (p.value().isEmpty()) {
              continue; // deleted
            }
          }
        }
        if (p.value().isPresent()) {
          StateNode.Leaf leaf = StateNode.Leaf.of(p.key(), p.value().get());
          leaf.knownKeyHash(p.keyHash());
          out.add(new Entry(p.keyHash(), leaf, false));
        }
      }
      if (!existingHandled) {
        out.add(new Entry(existingKeyHash, existing, true));
      }
      return out;
    }

    /**
     * The canonical subtree holding exactly {@code entries[from, to)}, which share their first
     * {@code depth} nibbles; every node of it is new (an existing leaf that ends up here is at a
     * new place).
     */
    private Sub build(int depth, List<Entry> entries, int from, int to) {
      if (from == to) {
        return null;
      }
      if (to - from == 1) {
        StateNode.Leaf leaf = entries.get(from).leaf();
        return new Sub(leaf.hash(), version, leaf, true);
      }
      if (depth >= DEPTH_MAX) {
        throw new IllegalStateException("two keys with one SHA-256 at depth " + depth);
      }
      int bitmap = 0;
      int count = 0;
      Sub[] children = new Sub[16];
      Bytes[] paths = new Bytes[16];
      int i = from;
      while (i < to) {
        Digest keyHash = entries.get(i).keyHash();
        int nib = nibble(keyHash, depth);
        int j = i + 1;
        while (j < to && nibble(entries.get(j).keyHash(), depth) == nib) {
          j++;
        }
        children[nib] = build(depth + 1, entries, i, j);
        paths[nib] = NodeRef.pathOf(keyHash, depth + 1); // every entry of the group spells the same path
        bitmap |= 1 << nib;
        count++;
        i = j;
      }
      long[] versions = versionScratch;
      java.util.Arrays.fill(versions, 0, count, version);
      byte[] out = StateNode.Internal.storedArray(bitmap, versions);
      StateNode[] nodes = new StateNode[16];
      int rank = 0;
      for (int n = 0; n < 16; n++) {
        Sub child = children[n];
        if (child != null) {
          place(child, depth + 1, paths[n]);
          System.arraycopy(child.hash().unsafeArray(), 0, out, StateNode.Internal.hashOffset(rank), Digest.LENGTH);
          nodes[n] = child.node();
          rank++;
        }
      }
      return internalSub(out, bitmap, nodes, depth);
    }
  }
}
