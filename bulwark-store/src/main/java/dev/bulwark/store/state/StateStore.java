package dev.bulwark.store.state;

import dev.bulwark.core.CorruptionException;
import dev.bulwark.core.Digest;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.codec.KeyCodec;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.state.NodeLoader;
import dev.bulwark.core.state.StateNode;
import dev.bulwark.core.state.StateProof;
import dev.bulwark.core.state.StateTrie;
import dev.bulwark.core.state.StateUpdate;
import dev.bulwark.core.table.ContentKey;
import dev.bulwark.core.table.ContentTable;
import dev.bulwark.core.table.IntentTable;
import dev.bulwark.core.table.KeyPrefix;
import dev.bulwark.core.table.Table;
import dev.bulwark.store.ObjectStore;
import dev.bulwark.store.StoreSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The versioned, authenticated state in the store: the {@link StateTrie}'s nodes in a content
 * table, one root per version, and the bookkeeping that lets old versions go.
 *
 * <p><b>Retention.</b> The latest {@link StateConfig#retainedVersions()} roots stay readable;
 * older roots are released in the same transaction that adds a new one, and a read under a
 * released root fails with {@link RootReleasedException}.
 *
 * <p><b>Garbage collection.</b> Each version journals the nodes it created and the nodes it
 * made unreachable ("stale"). A node stale at version s is in tree s-1 but not in tree s, and
 * can only come back by being created again (content addressing: the same bytes, the same
 * key). So once tree s-1 is released, a node stale at s may be deleted unless some version
 * at or after s created it again. The collector checks that against an in-memory index of
 * recent creations, rebuilt from the journal on open; {@link #stage} records a batch's
 * creations in that index before its writes can commit, and the collector re-checks under the
 * same lock right before it deletes, so a node is never deleted while a new tree uses it.
 * Deletions go in bounded batches, and a collected version's journal goes with them, so
 * storage stays proportional to the live state plus the retained window.
 */
public final class StateStore {
  /** Where one version's journal part lives. */
  record JournalKey(long version, long part) {}

  /** Part of one version's journal. */
  record Journal(List<Digest> created, List<Digest> stale) {}

  static final KeyCodec<JournalKey> JOURNAL_KEY = Codecs.keyRecord("bulwark.StateJournalKey",
      Codecs.field("version", Codecs.u64(), JournalKey::version),
      Codecs.field("part", Codecs.u64(), JournalKey::part),
      JournalKey::new);

  static final Codec<Journal> JOURNAL_CODEC = Codecs.record("bulwark.StateJournal",
      Codecs.field("created", Codecs.list(Codecs.digest()), Journal::created),
      Codecs.field("stale", Codecs.list(Codecs.digest()), Journal::stale),
      Journal::new);

  public static final ContentTable<StateNode> NODES = ContentTable.of("bulwark.state-node", 1, StateNode.CODEC);
  static final IntentTable<Long, Digest> ROOTS = IntentTable.of("bulwark.state-root", 1, Codecs.u64(), Codecs.digest());
  static final IntentTable<JournalKey, Journal> JOURNAL =
      IntentTable.of("bulwark.state-journal", 1, JOURNAL_KEY, JOURNAL_CODEC);
  static final IntentTable<String, Long> META = IntentTable.of("bulwark.state-meta", 1, Codecs.keyUtf8(), Codecs.u64());

  /** The tables a database must register to hold authenticated state. */
  public static final List<Table<?>> TABLES = List.of(NODES, ROOTS, JOURNAL, META);

  private static final String LATEST = "latest";
  private static final String OLDEST = "oldest-retained";
  private static final String COLLECTED = "collected-through";
  /** Meta value meaning "no version yet". */
  private static final long NONE = -1;
  private static final int JOURNAL_PARTS_MAX = 1 << 20;

  private final ObjectStore objects;
  private final StateConfig config;
  private final Object gcLock = new Object();
  /** First 8 bytes of a node hash -> the latest version that created it, for versions not yet collected. */
  private final LongLongMap createdAt = new LongLongMap(1 << 16);
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
    for (long v = collectedThrough + 1; v <= latest; v++) {
      for (Journal part : journal(store, v)) {
        remember(part.created(), v);
      }
    }
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

  /** Loads nodes through the shared cache from {@code view} (a snapshot or a transaction). */
  public NodeLoader loader(ReadView view) {
    return hash -> objects.cache().find(NODES, new ContentKey(NODES.id(), hash), view).orElseThrow(
        () -> new CorruptionException("state node " + hash, "referenced but not stored"));
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
    StateTrie.Result result = StateTrie.update(loader(tx), parentRoot, updates, node -> {
      tx.put(new ContentKey(NODES.id(), node.hash()).toBytes(), node.encoding());
      objects.cache().offer(NODES, new ContentKey(NODES.id(), node.hash()), node, node.encoding().length());
    });
    synchronized (gcLock) {
      // Before the writes can commit: the collector must see these creations.
      remember(result.created(), version);
    }
    ROOTS.put(tx, version, result.root());
    int chunk = config.journalChunkDigests();
    int parts = Math.max(1, Math.ceilDiv(Math.max(result.created().size(), result.stale().size()), chunk));
    if (parts > JOURNAL_PARTS_MAX) {
      throw new IllegalArgumentException("a batch of " + updates.size() + " updates is too large to journal");
    }
    for (int p = 0; p < parts; p++) {
      JOURNAL.put(tx, new JournalKey(version, p), new Journal(slice(result.created(), p, chunk), slice(result.stale(), p, chunk)));
    }
    META.put(tx, LATEST, version);
    long oldest = Math.max(oldestRetained, version - config.retainedVersions() + 1);
    for (long v = oldestRetained; v < oldest; v++) {
      ROOTS.delete(tx, v);
    }
    META.put(tx, OLDEST, oldest);
    return result;
  }

  private static List<Digest> slice(List<Digest> all, int part, int chunk) {
    int from = Math.min(all.size(), part * chunk);
    return all.subList(from, Math.min(all.size(), from + chunk));
  }

  /**
   * Registers the creations journaled in {@code writes} (a version computed elsewhere, by the
   * leader) before they are written, so the collector cannot delete a node the version brings
   * back. Call it before writing {@code writes}, then {@link #committed} after.
   */
  public void beforeApply(WriteSet writes, long version) {
    Bytes start = JOURNAL.keyOf(new JournalKey(version, 0)).toBytes();
    Bytes end = JOURNAL.range(KeyPrefix.of(Codecs.u64(), version)).end();
    List<Digest> created = new ArrayList<>();
    for (var e : writes.mutations().subMap(start, true, end, false).entrySet()) {
      if (e.getValue() instanceof dev.bulwark.core.kv.Mutation.Put put) {
        created.addAll(JOURNAL_CODEC.decode(put.value()).created());
      }
    }
    synchronized (gcLock) {
      remember(created, version);
    }
  }

  /** Records that the transaction holding {@code version} committed. */
  public void committed(long version) {
    if (version <= latest) {
      throw new IllegalStateException("version " + version + " committed after " + latest);
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

  private void remember(List<Digest> created, long version) {
    for (Digest d : created) {
      createdAt.mergeMax(prefix(d), version);
    }
  }

  private static long prefix(Digest d) {
    byte[] b = d.unsafeArray();
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (b[i] & 0xFF);
    }
    return v;
  }

  private List<Journal> journal(ReadView view, long version) {
    List<Journal> parts = new ArrayList<>();
    for (IntentTable.Row<JournalKey, Journal> row : JOURNAL.scan(view, KeyPrefix.of(Codecs.u64(), version), JOURNAL_PARTS_MAX)) {
      parts.add(row.value());
    }
    return parts;
  }

  /** What one round of collection did. */
  public record Collected(long versions, long nodesDeleted, long collectedThrough) {}

  /**
   * Deletes the nodes that no retained root can reach any more, version by version, in bounded
   * store batches. Safe to run beside {@link #stage}: call it from a background thread.
   */
  public Collected collectGarbage() {
    long versions = 0;
    long deleted = 0;
    // Nodes stale at s were in tree s-1: collectable once tree s-1 is released.
    while (collectedThrough < Math.min(oldestRetained, latest)) {
      long s = collectedThrough + 1;
      List<Journal> parts;
      try (StoreSnapshot snapshot = objects.snapshot()) {
        parts = journal(snapshot, s);
      }
      List<Digest> stale = new ArrayList<>();
      for (Journal part : parts) {
        stale.addAll(part.stale());
      }
      int chunk = config.collectDeletesMax();
      for (int from = 0; from < stale.size() || from == 0; from += chunk) {
        List<Digest> candidates = stale.subList(Math.min(from, stale.size()), Math.min(stale.size(), from + chunk));
        boolean last = from + chunk >= stale.size();
        synchronized (gcLock) {
          WriteSet.Builder writes = WriteSet.builder();
          for (Digest d : candidates) {
            long created = createdAt.get(prefix(d), Long.MIN_VALUE);
            if (created < s) {
              ContentKey key = new ContentKey(NODES.id(), d);
              writes.delete(key.toBytes());
              // A dead node must not keep a place in the cache that live nodes need.
              objects.cache().invalidate(key);
              deleted++;
            }
          }
          if (last) {
            for (int p = 0; p < parts.size(); p++) {
              writes.delete(JOURNAL.keyOf(new JournalKey(s, p)).toBytes());
            }
            writes.put(META.keyOf(COLLECTED).toBytes(), Codecs.u64().encode(s));
            for (Journal part : parts) {
              for (Digest d : part.created()) {
                createdAt.remove(prefix(d), s);
              }
            }
          }
          objects.store().write(writes.build(), objects.config().durability());
        }
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

  /** Entries in the in-memory index of recent creations (bounded by the retained window). */
  public int creationIndexSize() {
    synchronized (gcLock) {
      return createdAt.size();
    }
  }
}
