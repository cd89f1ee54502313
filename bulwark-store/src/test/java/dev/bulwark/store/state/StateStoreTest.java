package dev.bulwark.store.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.state.NodeLoader;
import dev.bulwark.core.state.NodeRef;
import dev.bulwark.core.state.StateNode;
import dev.bulwark.core.state.StateProof;
import dev.bulwark.core.state.StateTrie;
import dev.bulwark.core.state.StateUpdate;
import dev.bulwark.core.table.KeyPrefix;
import dev.bulwark.store.Backend;
import dev.bulwark.store.Durability;
import dev.bulwark.store.ObjectStore;
import dev.bulwark.store.StoreConfig;
import dev.bulwark.store.StoreSnapshot;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The versioned state store on a real database: a random history checked against a model,
 * retention, garbage collection checked by a full reachability walk (nothing reachable from a
 * retained root is ever deleted, nothing unreachable stays), and reopening.
 */
class StateStoreTest {
  @TempDir
  Path dir;

  static Bytes key(int i) {
    return Bytes.utf8("acct/" + i);
  }

  static ObjectStore open(Path dir, Backend backend) {
    return ObjectStore.open(StoreConfig.defaults(dir).withBackend(backend).withDurability(Durability.NO_SYNC)
        .withCacheBytesMax(1 << 20), StateStore.TABLES);
  }

  /** The store key of every node in the node table. */
  static Set<Bytes> storedNodes(ObjectStore objects) {
    Set<Bytes> out = new HashSet<>();
    try (Cursor c = objects.store().scan(KeyRange.prefix(StateStore.NODES.id().prefix()))) {
      while (c.hasNext()) {
        out.add(c.next().key());
      }
    }
    return out;
  }

  /** The store key of every node reachable from {@code root} (loading each checks its hash). */
  static Set<Bytes> reachable(NodeLoader loader, Digest root) {
    Set<Bytes> seen = new HashSet<>();
    if (root.equals(StateTrie.EMPTY_ROOT)) {
      return seen;
    }
    Deque<NodeRef> todo = new ArrayDeque<>(List.of(loader.root(root)));
    while (!todo.isEmpty()) {
      NodeRef ref = todo.pop();
      if (seen.add(StateStore.nodeKey(ref)) && loader.load(ref) instanceof StateNode.Internal internal) {
        for (int n = 0; n < 16; n++) {
          if (internal.hasChild(n)) {
            todo.push(new NodeRef(internal.child(n), internal.childVersion(n), ref.depth() + 1,
                NodeRef.childPath(ref.path(), ref.depth(), n)));
          }
        }
      }
    }
    return seen;
  }

  /** A random history: versions of random puts and deletes, checked against the model as it goes. */
  static final class History {
    final SplittableRandom random;
    final List<TreeMap<Bytes, Bytes>> models = new ArrayList<>();
    final List<Digest> roots = new ArrayList<>();
    TreeMap<Bytes, Bytes> model = new TreeMap<>();
    final int keySpace;

    History(long seed, int keySpace) {
      this.random = new SplittableRandom(seed);
      this.keySpace = keySpace;
    }

    void step(StateStore state) {
      List<StateUpdate> updates = new ArrayList<>();
      int size = random.nextInt(0, 50);
      for (int u = 0; u < size; u++) {
        Bytes k = key(random.nextInt(keySpace));
        if (random.nextInt(5) == 0) {
          updates.add(StateUpdate.delete(k));
          model.remove(k);
        } else {
          // Few distinct values, so old leaves and subtrees come back and must survive collection.
          Bytes v = Bytes.utf8("v" + random.nextInt(3));
          updates.add(StateUpdate.put(k, v));
          model.put(k, v);
        }
      }
      long version = state.latestVersion() + 1;
      Digest parent = state.latestRoot();
      roots.add(state.commit(version, parent, updates));
      models.add(new TreeMap<>(model));
    }
  }

  static void checkRetained(StateStore state, History h, ObjectStore objects) {
    long oldest = state.oldestRetainedVersion();
    Set<Bytes> live = new HashSet<>();
    try (StoreSnapshot snapshot = objects.snapshot()) {
      NodeLoader loader = state.loader(snapshot);
      for (long v = oldest; v <= state.latestVersion(); v++) {
        assertThat(state.root(snapshot, v)).isEqualTo(h.roots.get((int) v));
        live.addAll(reachable(loader, h.roots.get((int) v)));
      }
    }
    // Sample keys in each retained version: values and proofs match the model of that version.
    for (long v = oldest; v <= state.latestVersion(); v++) {
      TreeMap<Bytes, Bytes> m = h.models.get((int) v);
      for (int i = 0; i < h.keySpace + 3; i += 7) {
        Optional<Bytes> expected = Optional.ofNullable(m.get(key(i)));
        assertThat(state.get(v, key(i))).isEqualTo(expected);
        StateProof proof = state.prove(v, key(i));
        assertThat(proof.verify(h.roots.get((int) v), key(i), expected)).isTrue();
      }
    }
    if (oldest > 0) {
      assertThatThrownBy(() -> state.prove(oldest - 1, key(1))).isInstanceOf(RootReleasedException.class)
          .hasMessageContaining("was released");
    }
    // Collection never removed a reachable node.
    Set<Bytes> stored = storedNodes(objects);
    assertThat(stored).containsAll(live);
    if (state.collectionBacklog() == 0) {
      // Fully collected: what is stored is exactly what the retained roots reach.
      assertThat(stored).isEqualTo(live);
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aRandomHistoryMatchesTheModelAndCollectionKeepsExactlyTheLiveNodes(Backend backend) {
    for (long seed : new long[] {7, 8}) {
      Path db = dir.resolve(backend + "-" + seed);
      History h = new History(seed, 150);
      StateConfig config = StateConfig.DEFAULT.withRetainedVersions(4);
      try (ObjectStore objects = open(db, backend)) {
        StateStore state = new StateStore(objects, config);
        for (int step = 0; step < 60; step++) {
          h.step(state);
          if (h.random.nextInt(3) == 0) {
            state.collectGarbage();
          }
          if (step % 10 == 9) {
            checkRetained(state, h, objects);
          }
        }
        state.collectGarbage();
        assertThat(state.collectionBacklog()).isZero();
        checkRetained(state, h, objects);
      }
      // Reopen: same roots, same proofs, and collection resumes from the journal.
      try (ObjectStore objects = open(db, backend)) {
        StateStore state = new StateStore(objects, config);
        assertThat(state.latestVersion()).isEqualTo(h.roots.size() - 1);
        assertThat(state.latestRoot()).isEqualTo(h.roots.getLast());
        checkRetained(state, h, objects);
        for (int step = 0; step < 20; step++) {
          h.step(state);
        }
        state.collectGarbage();
        checkRetained(state, h, objects);
      }
    }
  }

  @Test
  void theStoredFormIsTheNodeCodecsEncoding() {
    StateNode.Leaf leaf = StateNode.Leaf.of(key(7), Bytes.utf8("seven"));
    assertThat(Bytes.adopt(StateStore.storedForm(leaf))).isEqualTo(StateStore.NODE_CODEC.encode(leaf));
    Digest[] children = new Digest[16];
    children[1] = Digest.sha256(Bytes.utf8("a"));
    children[9] = Digest.sha256(Bytes.utf8("b"));
    children[15] = Digest.sha256(Bytes.utf8("c"));
    // Versions of one, two and three varint bytes.
    StateNode.Internal internal = StateNode.Internal.restore(StateNode.Internal.of(children).encoding(),
        new long[] {5, 300, 1L << 20});
    byte[] stored = StateStore.storedForm(internal);
    assertThat(Bytes.adopt(stored)).isEqualTo(StateStore.NODE_CODEC.encode(internal));
    assertThat(StateStore.NODE_CODEC.decode(Bytes.adopt(stored))).isEqualTo(internal);
  }

  @Test
  void staleNodesLeaveTheCacheWhenTheyLeaveTheLatestTreeAndOldRootsStillRead() {
    try (ObjectStore objects = open(dir, Backend.ROCKSDB)) {
      StateStore state = new StateStore(objects, StateConfig.DEFAULT.withLinkedDepth(0));
      List<StateUpdate> first = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        first.add(StateUpdate.put(key(i), Bytes.utf8("v" + i)));
      }
      Digest root0 = state.commit(0, StateTrie.EMPTY_ROOT, first);
      long entries0 = objects.cache().stats().entries();
      state.commit(1, root0, List.of(StateUpdate.put(key(3), Bytes.utf8("changed"))));
      // Version 1 rewrites one path: as many nodes go stale as are written, so the count stays.
      assertThat(objects.cache().stats().entries()).isEqualTo(entries0);
      assertThat(state.get(0, key(3))).contains(Bytes.utf8("v3"));
      assertThat(state.prove(0, key(3)).verify(root0, key(3), Optional.of(Bytes.utf8("v3")))).isTrue();
      assertThat(state.get(1, key(3))).contains(Bytes.utf8("changed"));
    }
  }

  @Test
  void reopeningWithACollectionBacklogCollectsItFromTheJournal() {
    History h = new History(99, 60);
    StateConfig config = StateConfig.DEFAULT.withRetainedVersions(3);
    try (ObjectStore objects = open(dir, Backend.ROCKSDB)) {
      StateStore state = new StateStore(objects, config);
      for (int step = 0; step < 30; step++) {
        h.step(state); // no collection: a backlog of released versions builds up
      }
      assertThat(state.collectionBacklog()).isGreaterThan(20);
    }
    try (ObjectStore objects = open(dir, Backend.ROCKSDB)) {
      StateStore state = new StateStore(objects, config);
      long backlog = state.collectionBacklog();
      assertThat(backlog).isGreaterThan(20);
      // A bounded round collects that many versions and leaves the rest for the next.
      StateStore.Collected round = state.collectGarbage(5);
      assertThat(round.versions()).isEqualTo(5);
      assertThat(state.collectionBacklog()).isEqualTo(backlog - 5);
      StateStore.Collected collected = state.collectGarbage();
      assertThat(collected.versions()).isEqualTo(backlog - 5);
      assertThat(collected.nodesDeleted()).isPositive();
      assertThat(state.collectionBacklog()).isZero();
      checkRetained(state, h, objects);
      // Collected versions leave no journal behind.
      assertThat(objects.scan(StateStore.JOURNAL, KeyPrefix.NONE, 1_000_000)).allSatisfy(
          row -> assertThat(row.key().version()).isGreaterThan(collected.collectedThrough()));
    }
  }

  @Test
  void theCollectorRunsBesideTheWriterWithoutDeletingLiveNodes() throws InterruptedException {
    History h = new History(5, 200);
    try (ObjectStore objects = open(dir, Backend.ROCKSDB)) {
      StateStore state = new StateStore(objects, StateConfig.DEFAULT.withRetainedVersions(2));
      AtomicBoolean stop = new AtomicBoolean();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread collector = Thread.ofPlatform().name("test-collector").start(() -> {
        try {
          for (int i = 0; i < 1_000_000 && !stop.get(); i++) {
            if (state.collectGarbage().versions() == 0) {
              Thread.onSpinWait();
            }
          }
        } catch (Throwable t) {
          failure.set(t);
        }
      });
      for (int step = 0; step < 150; step++) {
        h.step(state);
      }
      stop.set(true);
      collector.join(30_000);
      assertThat(collector.isAlive()).isFalse();
      assertThat(failure.get()).isNull();
      state.collectGarbage();
      checkRetained(state, h, objects);
    }
  }

  @Test
  void theBackgroundCollectorKeepsStorageToTheLiveStateAndTheWindow() throws InterruptedException {
    History h = new History(11, 300);
    try (ObjectStore objects = open(dir, Backend.ROCKSDB)) {
      StateStore state = new StateStore(objects, StateConfig.DEFAULT.withRetainedVersions(3));
      try (StateCollector collector = StateCollector.start(state, java.time.Duration.ofMillis(5))) {
        for (int step = 0; step < 120; step++) {
          h.step(state);
          collector.nudge();
        }
        for (int wait = 0; wait < 2_000 && state.collectionBacklog() > 0; wait++) {
          Thread.sleep(5);
        }
        assertThat(collector.failure()).isNull();
        assertThat(state.collectionBacklog()).isZero();
        assertThat(collector.nodesDeleted()).isPositive();
      }
      checkRetained(state, h, objects);
    }
  }

  @Test
  void aRootThatComesBackIsFoundAtItsNewNodeAfterTheOldOneIsCollected() {
    try (ObjectStore objects = open(dir, Backend.ROCKSDB)) {
      StateStore state = new StateStore(objects, StateConfig.DEFAULT.withRetainedVersions(2));
      List<Digest> roots = new ArrayList<>();
      Digest root = StateTrie.EMPTY_ROOT;
      // The state goes back and forth between two contents: each root hash comes back again
      // and again, written anew by a later version each time.
      for (int v = 0; v < 12; v++) {
        root = state.commit(v, root, List.of(StateUpdate.put(key(1), Bytes.utf8("x")),
            StateUpdate.put(key(2), Bytes.utf8(v % 2 == 0 ? "a" : "b"))));
        roots.add(root);
        state.collectGarbage();
        for (long r = state.oldestRetainedVersion(); r <= v; r++) {
          assertThat(state.prove(r, key(2)).verify(roots.get((int) r), key(2), Optional.of(Bytes.utf8(r % 2 == 0 ? "a" : "b"))))
              .isTrue();
        }
      }
      assertThat(roots.get(10)).isEqualTo(roots.get(0));
      // Only the retained trees' nodes and their roots' index entries are left.
      Set<Bytes> live = new HashSet<>();
      try (StoreSnapshot snapshot = objects.snapshot()) {
        for (long v = state.oldestRetainedVersion(); v <= state.latestVersion(); v++) {
          live.addAll(reachable(state.loader(snapshot), roots.get((int) v)));
        }
      }
      assertThat(storedNodes(objects)).isEqualTo(live);
      assertThat(objects.scan(StateStore.ROOT_INDEX, KeyPrefix.NONE, 100)).hasSize(2);
    }
  }

  @Test
  void nodeKeysAreTheTablesKeyEncodingAndStoredNodesKeepTheirChildrenVersions() {
    NodeRef ref = new NodeRef(Digest.sha256(Bytes.utf8("n")), 0x0102030405L, 3, Bytes.fromHex("abc0"));
    assertThat(StateStore.nodeKey(ref)).isEqualTo(
        StateStore.NODES.keyOf(new StateStore.NodeAddress(ref.version(), ref.depth(), ref.path())).toBytes());
    Digest[] children = new Digest[16];
    children[3] = Digest.sha256(Bytes.utf8("c3"));
    children[9] = Digest.sha256(Bytes.utf8("c9"));
    StateNode.Internal plain = StateNode.Internal.of(children);
    StateNode.Internal node = StateNode.Internal.restore(plain.encoding(), new long[] {7, 1L << 40});
    StateNode back = StateStore.NODE_CODEC.decode(StateStore.NODE_CODEC.encode(node));
    assertThat(back).isEqualTo(node);
    assertThat(((StateNode.Internal) back).childVersion(3)).isEqualTo(7);
    assertThat(((StateNode.Internal) back).childVersion(9)).isEqualTo(1L << 40);
    assertThat(back.hash()).isEqualTo(plain.hash()); // the versions are not part of the hash
    StateNode.Leaf leaf = StateNode.Leaf.of(Bytes.utf8("k"), Bytes.utf8("v"));
    assertThat(StateStore.NODE_CODEC.decode(StateStore.NODE_CODEC.encode(leaf))).isEqualTo(leaf);
    assertThatThrownBy(() -> StateStore.NODE_CODEC.decode(plain.encoding())).isInstanceOf(RuntimeException.class);
  }

  @Test
  void aStagedVersionThatIsDiscardedLeavesNothingBehindWhenAnotherTreeCommitsAsThatVersion() {
    try (ObjectStore objects = open(dir, Backend.ROCKSDB)) {
      StateStore state = new StateStore(objects, StateConfig.DEFAULT.withRetainedVersions(2).withLinkedDepth(1));
      Digest root = StateTrie.EMPTY_ROOT;
      List<StateUpdate> base = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        base.add(StateUpdate.put(key(i), Bytes.utf8("v" + i)));
      }
      root = state.commit(0, root, base);
      // A leader stages version 1 and loses it; version 1 then comes with other contents.
      try (StoreSnapshot snapshot = objects.snapshot()) {
        state.stage(new Transaction(snapshot), 1, root, List.of(StateUpdate.put(key(1), Bytes.utf8("lost"))));
      }
      Digest one = state.commit(1, root, List.of(StateUpdate.put(key(1), Bytes.utf8("kept")), StateUpdate.delete(key(2))));
      assertThat(state.get(1, key(1))).contains(Bytes.utf8("kept"));
      assertThat(state.prove(1, key(2)).verify(one, key(2), Optional.empty())).isTrue();
      Digest two = state.commit(2, one, List.of(StateUpdate.put(key(3), Bytes.utf8("three"))));
      state.collectGarbage();
      for (int i = 0; i < 200; i++) {
        Optional<Bytes> expected = i == 2 ? Optional.empty() : Optional.of(Bytes.utf8(i == 1 ? "kept" : i == 3 ? "three" : "v" + i));
        assertThat(state.get(2, key(i))).isEqualTo(expected);
        assertThat(state.prove(2, key(i)).verify(two, key(i), expected)).isTrue();
      }
      Set<Bytes> live = new HashSet<>();
      try (StoreSnapshot snapshot = objects.snapshot()) {
        live.addAll(reachable(state.loader(snapshot), one));
        live.addAll(reachable(state.loader(snapshot), two));
      }
      assertThat(storedNodes(objects)).isEqualTo(live);
    }
  }

  @Test
  void releasedRootsAndUnknownVersionsAreRefusedClearly() {
    try (ObjectStore objects = open(dir, Backend.ROCKSDB)) {
      StateStore state = new StateStore(objects, StateConfig.DEFAULT.withRetainedVersions(2));
      assertThat(state.latestRoot()).isEqualTo(StateTrie.EMPTY_ROOT);
      Digest root = StateTrie.EMPTY_ROOT;
      for (int v = 0; v < 5; v++) {
        root = state.commit(v, root, List.of(StateUpdate.put(key(v), Bytes.utf8("x"))));
      }
      assertThat(state.oldestRetainedVersion()).isEqualTo(3);
      assertThatThrownBy(() -> state.get(2, key(1))).isInstanceOf(RootReleasedException.class)
          .hasMessage("the state root of version 2 was released: the store keeps versions 3 to 4 (state.retainedVersions)");
      assertThatThrownBy(() -> state.prove(9, key(1))).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("no state version 9");
      assertThatThrownBy(() -> state.commit(4, StateTrie.EMPTY_ROOT, List.of())).isInstanceOf(IllegalArgumentException.class);
      assertThat(state.get(4, key(0))).contains(Bytes.utf8("x"));
    }
  }
}
