package dev.bulwark.store.state;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.CorruptionException;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.codec.DecodeException;
import dev.bulwark.core.codec.DecodeLimits;
import dev.bulwark.core.codec.Decoder;
import dev.bulwark.core.codec.Encoder;
import dev.bulwark.core.codec.KeyCodec;
import dev.bulwark.core.codec.TypeDescription;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.state.NodeLoader;
import dev.bulwark.core.state.NodeRef;
import dev.bulwark.core.state.StateNode;
import dev.bulwark.core.state.StateProof;
import dev.bulwark.core.state.StateTrie;
import dev.bulwark.core.state.StateUpdate;
import dev.bulwark.core.table.IntentTable;
import dev.bulwark.core.table.KeyPrefix;
import dev.bulwark.core.table.Table;
import dev.bulwark.store.ObjectStore;
import dev.bulwark.store.StoreSnapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The versioned, authenticated state in the store: the {@link StateTrie}'s nodes, one root
 * per version, and the bookkeeping that lets old versions go.
 *
 * <p><b>Node keys.</b> A node is stored under the version that wrote it and its path (see
 * {@link NodeRef}): {@code table id | version (8 bytes, big-endian) | depth (1 byte) | path}.
 * A version's nodes are one contiguous, ascending run of keys, which RocksDB takes at a
 * fraction of the cost of the same number of keys scattered by hash; and a key is never
 * written twice. An internal node's stored value is its canonical encoding followed by each
 * child's version (a varint each, in nibble order), which is where the child is stored. A
 * root is found from its hash through a small index ({@code hash | version}).
 *
 * <p><b>Retention.</b> The latest {@link StateConfig#retainedVersions()} roots stay readable;
 * older roots are released in the same transaction that adds a new one, and a read under a
 * released root fails with {@link RootReleasedException}.
 *
 * <p><b>Garbage collection.</b> Each version journals the nodes of the previous tree it left
 * out ("stale"). A node stale at version s is in tree s-1 and, as its key is never written
 * again, in no tree from s on. So once tree s-1 is released, the stale nodes of s are deleted,
 * with no index of what later versions created and no lock against the writer. Deletions go
 * in bounded batches, and a collected version's journal goes with them, so storage stays
 * proportional to the live state plus the retained window.
 */
public final class StateStore {
  /** Where one version's journal part lives. */
  record JournalKey(long version, long part) {}

  /** Where a node is stored: the version that wrote it, its depth and its packed path. */
  record NodeAddress(long version, int depth, Bytes path) {}

  /** Where a root node is stored, found by its hash. */
  record RootKey(Digest hash, long version) {}

  static final KeyCodec<JournalKey> JOURNAL_KEY = Codecs.keyRecord("bulwark.StateJournalKey",
      Codecs.field("version", Codecs.u64(), JournalKey::version),
      Codecs.field("part", Codecs.u64(), JournalKey::part),
      JournalKey::new);

  static final KeyCodec<RootKey> ROOT_KEY = Codecs.keyRecord("bulwark.StateRootKey",
      Codecs.field("hash", Codecs.digest(), RootKey::hash),
      Codecs.field("version", Codecs.u64(), RootKey::version),
      RootKey::new);

  /** {@code version (u64) | depth (u8) | path ((depth + 1) / 2 bytes)}, ordered by version first. */
  static final KeyCodec<NodeAddress> NODE_KEY = new KeyCodec<>() {
    @Override public TypeDescription type() {
      return new TypeDescription.Primitive("bulwark.state-node-address/1");
    }

    @Override public void encode(NodeAddress a, Encoder out) {
      out.writeLongBigEndian(a.version()).writeByte(a.depth()).writeBytes(a.path());
    }

    @Override public NodeAddress decode(Decoder in) {
      long version = in.readLongBigEndian();
      int depth = in.readUnsignedByte();
      if (depth > StateTrie.DEPTH_MAX) {
        throw in.error(DecodeException.Reason.INVALID_VALUE, "node depth " + depth);
      }
      return new NodeAddress(version, depth, Bytes.adopt(in.readBytes((depth + 1) / 2)));
    }
  };

  /**
   * {@link #NODE_CODEC}'s encoding of {@code node}: for a leaf, its canonical encoding; for an
   * internal node, its stored form. Either way the node's own array (shared, never written to):
   * the trie builds an internal node in its stored form, so writing it copies nothing.
   */
  static byte[] storedForm(StateNode node) {
    return switch (node) {
      case StateNode.Leaf leaf -> leaf.encoding().unsafeArray();
      case StateNode.Internal internal -> internal.storedForm().unsafeArray();
    };
  }

  /** A node from its stored value, adopting the array; anything malformed is an {@link IllegalArgumentException}. */
  static StateNode fromStored(Bytes stored) {
    if (!stored.isEmpty() && stored.at(0) == StateNode.INTERNAL_TAG) {
      return StateNode.Internal.fromStoredForm(stored);
    }
    return StateNode.decode(stored);
  }

  /** A stored node: its canonical encoding, then (internal nodes) each child's version as a varint. */
  static final Codec<StateNode> NODE_CODEC = new Codec<>() {
    @Override public TypeDescription type() {
      return new TypeDescription.Primitive("bulwark.state-node/2");
    }

    @Override public void encode(StateNode node, Encoder out) {
      out.writeBytes(storedForm(node));
    }

    @Override public StateNode decode(Decoder in) {
      int start = in.position();
      try {
        return fromStored(Bytes.adopt(in.readBytes(in.remaining())));
      } catch (IllegalArgumentException e) {
        throw new DecodeException(DecodeException.Reason.INVALID_VALUE, start, e.getMessage());
      }
    }
  };

  public static final IntentTable<NodeAddress, StateNode> NODES = IntentTable.of("bulwark.state-node", 2, NODE_KEY, NODE_CODEC);
  static final IntentTable<Long, Digest> ROOTS = IntentTable.of("bulwark.state-root", 1, Codecs.u64(), Codecs.digest());
  static final IntentTable<RootKey, Boolean> ROOT_INDEX = IntentTable.of("bulwark.state-root-index", 1, ROOT_KEY, Codecs.bool());
  /** One version's stale nodes, packed: per node, its version (varint), depth (byte) and path. */
  static final IntentTable<JournalKey, Bytes> JOURNAL =
      IntentTable.of("bulwark.state-stale-journal", 1, JOURNAL_KEY, Codecs.bytes());
  static final IntentTable<String, Long> META = IntentTable.of("bulwark.state-meta", 1, Codecs.keyUtf8(), Codecs.u64());

  /** The tables a database must register to hold authenticated state. */
  public static final List<Table<?>> TABLES = List.of(NODES, ROOTS, ROOT_INDEX, JOURNAL, META);

  private static final String LATEST = "latest";
  private static final String OLDEST = "oldest-retained";
  private static final String COLLECTED = "collected-through";
  /** Meta value meaning "no version yet". */
  private static final long NONE = -1;
  private static final int JOURNAL_PARTS_MAX = 1 << 20;
  /** The most versions one root hash is indexed under at once (the same root can come back). */
  private static final int ROOT_VERSIONS_MAX = 1 << 16;
  private static final byte[] NODE_PREFIX = NODES.id().toByteArray();

  private final ObjectStore objects;
  private final StateConfig config;
  /** The root node of the latest staged tree, whose upper levels are linked in memory. */
  private StateNode.Internal linkedRoot;
  /** Roots staged and not yet committed, to notice a staged version that was discarded. */
  private final Map<Long, Digest> stagedRoots = new HashMap<>();
  private volatile long latest;
  private volatile long oldestRetained;
  private volatile long collectedThrough;

  public StateStore(ObjectStore objects, StateConfig config) {
    this.objects = objects;
    this.config = config;
    ReadView store = objects.store();
    this.latest = META.get(store, LATEST).orElse(NONE);
    this.oldestRetained = META.get(store, OLDEST).orElse(0L);
    this.collectedThrough = META.get(store, COLLECTED).orElse(NONE);
  }

  public StateConfig config() {
    return config;
  }

  /** The latest committed version, or -1 before the first. */
  public long latestVersion() {
    return latest;
  }

  public long oldestRetainedVersion() {
    return oldestRetained;
  }

  /** The store key of the node at {@code ref}. */
  public static Bytes nodeKey(NodeRef ref) {
    return nodeKey(ref.version(), ref.depth(), ref.path());
  }

  private static Bytes nodeKey(long version, int depth, Bytes path) {
    byte[] p = path.unsafeArray();
    byte[] out = new byte[NODE_PREFIX.length + 9 + p.length];
    System.arraycopy(NODE_PREFIX, 0, out, 0, NODE_PREFIX.length);
    int at = NODE_PREFIX.length;
    for (int i = 0; i < 8; i++) {
      out[at + i] = (byte) (version >>> (56 - 8 * i));
    }
    out[at + 8] = (byte) depth;
    System.arraycopy(p, 0, out, at + 9, p.length);
    return Bytes.adopt(out);
  }

  /** Whether nodes at {@code depth} go through the object cache (the linked upper levels do not). */
  private boolean cached(int depth) {
    return depth == 0 || depth > config.linkedDepth();
  }

  /**
   * Loads nodes from {@code view} (a snapshot or a transaction): through the shared cache,
   * except the linked upper levels, which are read directly when no link holds them.
   */
  public NodeLoader loader(ReadView view) {
    return new NodeLoader() {
      @Override public StateNode load(NodeRef ref) {
        if (ref.version() < 0) {
          throw new IllegalArgumentException("state node " + ref.hash() + " has no known version");
        }
        Bytes key = nodeKey(ref);
        if (!cached(ref.depth())) {
          return checked(ref, view.get(key).map(stored -> decodeNode(ref, stored)));
        }
        StateNode node = objects.cache().findImmutable(key, view, stored -> decodeNode(ref, stored)).orElse(null);
        if (node != null && !node.hash().equals(ref.hash())) {
          // A node cached from a staged version that was then discarded: the store has another.
          objects.cache().invalidateImmutable(key);
          node = objects.cache().findImmutable(key, view, stored -> decodeNode(ref, stored)).orElse(null);
        }
        return checked(ref, Optional.ofNullable(node));
      }

      @Override public int linkDepth() {
        return config.linkedDepth();
      }

      @Override public NodeRef root(Digest root) {
        List<IntentTable.Row<RootKey, Boolean>> rows = ROOT_INDEX.scan(view, KeyPrefix.of(Codecs.digest(), root), ROOT_VERSIONS_MAX);
        if (rows.isEmpty()) {
          throw new CorruptionException("state root " + root, "not in the root index");
        }
        return NodeRef.root(root, rows.getLast().key().version());
      }
    };
  }

  private static StateNode checked(NodeRef ref, Optional<StateNode> found) {
    StateNode node = found.orElseThrow(() -> new CorruptionException("state node " + ref, "referenced but not stored"));
    if (!node.hash().equals(ref.hash())) {
      throw new CorruptionException("state node " + ref, "stored node hashes to " + node.hash());
    }
    return node;
  }

  private static StateNode decodeNode(NodeRef ref, Bytes stored) {
    try {
      return fromStored(stored); // the array read from the store is the node's own: no copy
    } catch (IllegalArgumentException e) {
      throw new CorruptionException("state node " + ref, e.getMessage());
    }
  }

  /**
   * Links the upper levels of the latest tree in memory now (see {@link StateConfig#linkedDepth()})
   * instead of one batch at a time, and returns how many nodes that loaded: for a benchmark's
   * warm start, or a replica about to lead.
   */
  public long linkUpperLevels() {
    long[] loaded = new long[1];
    try (StoreSnapshot snapshot = objects.snapshot()) {
      StateNode root = StateTrie.linkUpperLevels(loader(snapshot), root(snapshot, latest), loaded);
      synchronized (stagedRoots) {
        if (root instanceof StateNode.Internal internal && internal != linkedRoot) {
          if (linkedRoot != null) {
            linkedRoot.dropLinks();
          }
          linkedRoot = internal;
        }
      }
    }
    return loaded[0];
  }

  /** The root of {@code version}; the empty root for -1 (the state before any version). */
  public Digest root(ReadView view, long version) {
    if (version == NONE) {
      return StateTrie.EMPTY_ROOT;
    }
    checkReadable(version);
    return ROOTS.get(view, version).orElseThrow(() -> new CorruptionException("state root of version " + version,
        "missing while versions " + oldestRetained + " to " + latest + " are retained"));
  }

  private void checkReadable(long version) {
    if (version > latest || version < NONE) {
      throw new IllegalArgumentException("there is no state version " + version + " (latest is " + latest + ")");
    }
    if (version < oldestRetained) {
      throw new RootReleasedException(version, oldestRetained, latest);
    }
  }

  /** The value of {@code key} in {@code version}. */
  public Optional<Bytes> get(long version, Bytes key) {
    try (StoreSnapshot snapshot = objects.snapshot()) {
      return StateTrie.get(loader(snapshot), root(snapshot, version), key);
    }
  }

  /** A proof of {@code key}'s value or absence in {@code version}, checkable against that version's root. */
  public StateProof prove(long version, Bytes key) {
    try (StoreSnapshot snapshot = objects.snapshot()) {
      return StateTrie.prove(loader(snapshot), root(snapshot, version), key);
    }
  }

  /**
   * Computes {@code version} from {@code parentRoot} and writes it into {@code tx}: its new
   * nodes, its root, its journal, and the release of roots that fall out of the window. The
   * caller commits {@code tx} and then calls {@link #committed}. Versions are staged in order;
   * a later version may be staged on a transaction whose base holds an earlier, uncommitted one.
   */
  public StateTrie.Result stage(Transaction tx, long version, Digest parentRoot, List<StateUpdate> updates) {
    if (version <= latest) {
      throw new IllegalArgumentException("version " + version + " is not after the latest committed " + latest);
    }
    StateNode[] newRoot = new StateNode[1];
    StateTrie.Result result = StateTrie.update(loader(tx), parentRoot, version, updates, (ref, node) -> {
      Bytes key = nodeKey(ref);
      byte[] value = storedForm(node);
      tx.put(key, Bytes.adopt(value));
      if (cached(ref.depth())) {
        objects.cache().offerImmutable(key, node, value.length);
      }
      if (ref.depth() == 0) {
        newRoot[0] = node;
      }
    });
    // The nodes this version left out are no longer in the latest tree: their cache places go
    // to live nodes now rather than when the collector deletes them a retention window later
    // (a read under an older root loads them again if it needs them). Each was just looked
    // up, so dropping it touches memory that is still in the processor's cache.
    for (NodeRef ref : result.stale()) {
      if (cached(ref.depth())) {
        objects.cache().invalidateImmutable(nodeKey(ref));
      }
    }
    synchronized (stagedRoots) {
      stagedRoots.put(version, result.root());
      // Only the latest tree keeps its upper levels linked: an older root lets go of them.
      if (newRoot[0] instanceof StateNode.Internal internal) {
        if (linkedRoot != null && linkedRoot != internal) {
          linkedRoot.dropLinks();
        }
        linkedRoot = internal;
      }
    }
    ROOTS.put(tx, version, result.root());
    if (result.rootVersion() == version) {
      ROOT_INDEX.put(tx, new RootKey(result.root(), version), true);
    }
    List<NodeRef> stale = result.stale();
    int chunk = config.journalChunkDigests();
    int parts = Math.max(1, Math.ceilDiv(stale.size(), chunk));
    if (parts > JOURNAL_PARTS_MAX) {
      throw new IllegalArgumentException("a batch of " + updates.size() + " updates is too large to journal");
    }
    for (int p = 0; p < parts; p++) {
      JOURNAL.put(tx, new JournalKey(version, p), packStale(stale, p * chunk, Math.min(stale.size(), (p + 1) * chunk)));
    }
    META.put(tx, LATEST, version);
    long oldest = Math.max(oldestRetained, version - config.retainedVersions() + 1);
    for (long v = oldestRetained; v < oldest; v++) {
      ROOTS.delete(tx, v);
    }
    META.put(tx, OLDEST, oldest);
    return result;
  }

  private static Bytes packStale(List<NodeRef> stale, int from, int to) {
    Encoder out = new Encoder(Math.max(16, (to - from) * 8));
    for (int i = from; i < to; i++) {
      NodeRef ref = stale.get(i);
      out.writeVarLong(ref.version()).writeByte(ref.depth()).writeBytes(ref.path());
      if (ref.depth() == 0) {
        out.writeBytes(ref.hash().unsafeArray()); // a root: its index entry goes too
      }
    }
    return out.toBytes();
  }

  /** A stale node as the journal holds it: its address, and its hash for a root. */
  private record StaleNode(NodeAddress address, Digest rootHash) {}

  private static List<StaleNode> unpackStale(Bytes packed, long version) {
    List<StaleNode> out = new ArrayList<>();
    Decoder in = new Decoder(packed, DecodeLimits.DEFAULT);
    try {
      while (in.remaining() > 0) {
        long v = in.readVarLong();
        int depth = in.readUnsignedByte();
        if (depth > StateTrie.DEPTH_MAX || v >= version || v < 0) {
          throw new CorruptionException("state journal of version " + version, "stale node at version " + v + ", depth " + depth);
        }
        Bytes path = Bytes.adopt(in.readBytes((depth + 1) / 2));
        Digest rootHash = depth == 0 ? Digest.of(in.readBytes(Digest.LENGTH)) : null;
        out.add(new StaleNode(new NodeAddress(v, depth, path), rootHash));
      }
    } catch (DecodeException e) {
      throw new CorruptionException("state journal of version " + version, e.getMessage());
    }
    return out;
  }

  /**
   * Records that the transaction holding {@code version} committed. If this store staged a
   * different tree for that version (a leader's batch that was discarded, then the version
   * came from another leader), the nodes it cached are not the stored ones: they are dropped.
   */
  public void committed(long version) {
    if (version <= latest) {
      throw new IllegalStateException("version " + version + " committed after " + latest);
    }
    synchronized (stagedRoots) {
      Digest staged = stagedRoots.remove(version);
      stagedRoots.keySet().removeIf(v -> v < version);
      if (staged != null && !ROOTS.get(objects.store(), version).map(staged::equals).orElse(false)) {
        objects.cache().invalidateAllImmutable();
        if (linkedRoot != null) {
          linkedRoot.dropLinks();
          linkedRoot = null;
        }
      }
    }
    latest = version;
    oldestRetained = Math.max(oldestRetained, version - config.retainedVersions() + 1);
  }

  /** Stages and commits one version: the whole cycle, for callers without a pipeline. */
  public Digest commit(long version, Digest parentRoot, List<StateUpdate> updates) {
    StateTrie.Result result;
    WriteSet writes;
    try (StoreSnapshot snapshot = objects.snapshot()) {
      Transaction tx = new Transaction(snapshot);
      result = stage(tx, version, parentRoot, updates);
      writes = tx.commit();
    }
    objects.commit(writes);
    committed(version);
    return result.root();
  }

  /** The root of the latest version, or the empty root. */
  public Digest latestRoot() {
    try (StoreSnapshot snapshot = objects.snapshot()) {
      return root(snapshot, latest);
    }
  }

  private List<Bytes> journal(ReadView view, long version) {
    List<Bytes> parts = new ArrayList<>();
    for (IntentTable.Row<JournalKey, Bytes> row : JOURNAL.scan(view, KeyPrefix.of(Codecs.u64(), version), JOURNAL_PARTS_MAX)) {
      parts.add(row.value());
    }
    return parts;
  }

  /** What one round of collection did. */
  public record Collected(long versions, long nodesDeleted, long collectedThrough) {}

  /**
   * Deletes the nodes that no retained root can reach any more, version by version, in bounded
   * store batches. Safe to run beside {@link #stage}: call it from a background thread (one
   * collector at a time).
   */
  public Collected collectGarbage() {
    return collectGarbage(Long.MAX_VALUE);
  }

  /**
   * As {@link #collectGarbage()}, but collects at most {@code versionsMax} versions, so that a
   * large backlog (a store written before its collector ran) is worked off in rounds that each
   * end soon.
   */
  public Collected collectGarbage(long versionsMax) {
    if (versionsMax < 1) {
      throw new IllegalArgumentException("a collection round covers at least one version: " + versionsMax);
    }
    long versions = 0;
    long deleted = 0;
    // Nodes stale at s were in tree s-1: collectable once tree s-1 is released.
    while (versions < versionsMax && collectedThrough < Math.min(oldestRetained, latest)) {
      long s = collectedThrough + 1;
      List<Bytes> parts;
      try (StoreSnapshot snapshot = objects.snapshot()) {
        parts = journal(snapshot, s);
      }
      List<StaleNode> stale = new ArrayList<>();
      for (Bytes part : parts) {
        stale.addAll(unpackStale(part, s));
      }
      int chunk = config.collectDeletesMax();
      for (int from = 0; from < stale.size() || from == 0; from += chunk) {
        List<StaleNode> batch = stale.subList(Math.min(from, stale.size()), Math.min(stale.size(), from + chunk));
        boolean last = from + chunk >= stale.size();
        WriteSet.Builder writes = WriteSet.builder();
        for (StaleNode n : batch) {
          Bytes key = nodeKey(n.address().version(), n.address().depth(), n.address().path());
          // No cache invalidation: stage dropped the node from the cache when it went stale,
          // and a node key is never written again, so an entry a late read brought back is
          // never wrong, only dead weight until evicted.
          writes.delete(key);
          if (n.rootHash() != null) {
            writes.delete(ROOT_INDEX.keyOf(new RootKey(n.rootHash(), n.address().version())).toBytes());
          }
          deleted++;
        }
        if (last) {
          for (int p = 0; p < parts.size(); p++) {
            writes.delete(JOURNAL.keyOf(new JournalKey(s, p)).toBytes());
          }
          writes.put(META.keyOf(COLLECTED).toBytes(), Codecs.u64().encode(s));
        }
        objects.store().write(writes.build(), objects.config().durability());
        if (last) {
          break;
        }
      }
      collectedThrough = s;
      versions++;
    }
    return new Collected(versions, deleted, collectedThrough);
  }

  /** Versions whose stale nodes are still waiting for the collector. */
  public long collectionBacklog() {
    return Math.max(0, Math.min(oldestRetained, latest) - collectedThrough);
  }
}
