package dev.bulwark.store.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.state.NodeLoader;
import dev.bulwark.core.state.StateNode;
import dev.bulwark.core.state.StateProof;
import dev.bulwark.core.state.StateTrie;
import dev.bulwark.core.state.StateUpdate;
import dev.bulwark.core.table.ContentKey;
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

  /** Every node hash stored in the node table. */
  static Set<Digest> storedNodes(ObjectStore objects) {
    Set<Digest> out = new HashSet<>();
    try (Cursor c = objects.store().scan(KeyRange.prefix(StateStore.NODES.id().prefix()))) {
      while (c.hasNext()) {
        out.add(ContentKey.fromBytes(c.next().key()).digest());
      }
    }
    return out;
  }

  static Set<Digest> reachable(NodeLoader loader, Digest root) {
    Set<Digest> seen = new HashSet<>();
    if (root.equals(StateTrie.EMPTY_ROOT)) {
      return seen;
    }
    Deque<Digest> todo = new ArrayDeque<>(List.of(root));
    while (!todo.isEmpty()) {
      Digest d = todo.pop();
      if (seen.add(d) && loader.load(d) instanceof StateNode.Internal internal) {
        for (Digest child : internal.children()) {
          if (child != null) {
            todo.push(child);
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
    Set<Digest> live = new HashSet<>();
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
    Set<Digest> stored = storedNodes(objects);
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
  void reopeningWithACollectionBacklogRebuildsTheCreationIndex() {
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
      assertThat(state.creationIndexSize()).isPositive();
      state.collectGarbage();
      assertThat(state.collectionBacklog()).isZero();
      checkRetained(state, h, objects);
      // The index only holds creations of versions not yet collected.
      assertThat(state.creationIndexSize()).isLessThan(storedNodes(objects).size() * 3 + 1);
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
