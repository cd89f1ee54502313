package dev.bulwark.store;

import static dev.bulwark.core.codec.Codecs.field;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.CorruptionException;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.table.ContentKey;
import dev.bulwark.core.table.ContentTable;
import dev.bulwark.core.table.Ref;
import dev.bulwark.core.table.RefResolver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Lazy refs load through the shared cache; the cache stays under its byte bound. */
class RefAndCacheTest {
  record Leaf(String text) {}

  record Node(String label, Ref<Leaf> leaf) {}

  static final ContentTable<Leaf> LEAVES = ContentTable.of("test.leaves", 1,
      Codecs.record("test.Leaf", field("text", Codecs.utf8(), Leaf::text), Leaf::new));

  /** The node table with its refs bound to {@code resolver}; the resolver is not part of the type. */
  static ContentTable<Node> nodes(RefResolver resolver) {
    Codec<Node> codec = Codecs.record("test.Node",
        field("label", Codecs.utf8(), Node::label),
        field("leaf", Ref.codec(LEAVES, resolver), Node::leaf),
        Node::new);
    return ContentTable.of("test.nodes", 1, codec);
  }

  private static final long TINY_CACHE_BYTES = 1024;

  private static final RefResolver UNUSED_RESOLVER = new RefResolver() {
    @Override
    public <T> T resolve(ContentTable<T> table, ContentKey key) {
      throw new AssertionError("this resolver is only for deriving a table id");
    }
  };

  @TempDir Path dir;

  private StoreConfig config(Backend backend) {
    return StoreConfig.defaults(dir).withBackend(backend).withDurability(Durability.NO_SYNC);
  }

  private static String text(int i, int length) {
    StringBuilder out = new StringBuilder(length);
    out.append(i).append(':');
    while (out.length() < length) {
      out.append((char) ('a' + out.length() % 26));
    }
    return out.toString();
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void decodingANodeDoesNotLoadWhatItRefersTo(Backend backend) {
    try (ObjectStore objects = ObjectStore.open(config(backend), List.of(LEAVES))) {
      ObjectCache cache = objects.cache();
      ContentTable<Node> nodes = nodes(cache);
      assertThat(nodes.id()).as("the table id does not depend on the resolver")
          .isEqualTo(nodes(UNUSED_RESOLVER).id());
      objects.register(List.of(nodes));

      ContentKey leafKey = objects.put(LEAVES, new Leaf("the leaf"));
      ContentKey nodeKey = objects.put(nodes, new Node("the node", objects.ref(LEAVES, leafKey)));
      cache.invalidateAll();
      CacheStats start = cache.stats();
      assertThat(start.entries()).isZero();

      Node node = objects.get(nodes, nodeKey).orElseThrow();
      CacheStats afterNode = cache.stats();
      assertThat(afterNode.misses()).as("only the node was loaded").isEqualTo(start.misses() + 1);
      assertThat(afterNode.hits()).isEqualTo(start.hits());
      assertThat(afterNode.entries()).isEqualTo(1);
      assertThat(node.label()).isEqualTo("the node");
      assertThat(node.leaf().key()).isEqualTo(leafKey);
      assertThat(node.leaf().isPinned()).isFalse();

      Leaf leaf = node.leaf().get();
      CacheStats afterLeaf = cache.stats();
      assertThat(leaf).isEqualTo(new Leaf("the leaf"));
      assertThat(afterLeaf.misses()).as("the first get loads the leaf").isEqualTo(afterNode.misses() + 1);
      assertThat(afterLeaf.hits()).isEqualTo(afterNode.hits());
      assertThat(afterLeaf.entries()).isEqualTo(2);

      for (int i = 0; i < 3; i++) {
        assertThat(node.leaf().get()).as("repeated gets return the cached instance").isSameAs(leaf);
      }
      CacheStats afterRepeats = cache.stats();
      assertThat(afterRepeats.hits()).as("repeated gets are hits").isEqualTo(afterLeaf.hits() + 3);
      assertThat(afterRepeats.misses()).isEqualTo(afterLeaf.misses());
      assertThat(afterRepeats.hitRatio()).isGreaterThan(0.0).isLessThan(1.0);

      assertThat(objects.get(nodes, nodeKey).orElseThrow().leaf().get())
          .as("a second decode of the node shares the cached leaf").isSameAs(leaf);
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aJustStoredValueIsACacheHit(Backend backend) {
    try (ObjectStore objects = ObjectStore.open(config(backend), List.of(LEAVES))) {
      Leaf leaf = new Leaf("fresh");
      ContentKey key = objects.put(LEAVES, leaf);
      CacheStats before = objects.cache().stats();
      assertThat(objects.get(LEAVES, key)).containsSame(leaf);
      CacheStats after = objects.cache().stats();
      assertThat(after.hits()).isEqualTo(before.hits() + 1);
      assertThat(after.misses()).isEqualTo(before.misses());
      assertThat(after.weightBytes()).isEqualTo(LEAVES.valueCodec().encode(leaf).length());
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aTinyCacheEvictsAndStaysUnderItsBound(Backend backend) {
    int leavesCount = 64;
    try (ObjectStore objects = ObjectStore.open(config(backend).withCacheBytesMax(TINY_CACHE_BYTES), List.of(LEAVES))) {
      ObjectCache cache = objects.cache();
      List<ContentKey> keys = new ArrayList<>();
      for (int i = 0; i < leavesCount; i++) {
        keys.add(objects.put(LEAVES, new Leaf(text(i, 100))));
        assertThat(cache.stats().weightBytes()).as("weight after put %d", i).isLessThanOrEqualTo(TINY_CACHE_BYTES);
      }
      CacheStats afterPuts = cache.stats();
      assertThat(afterPuts.evictions()).as("64 values of ~100 bytes do not fit in 1 KiB").isPositive();
      assertThat(afterPuts.entries()).isLessThan(leavesCount);

      for (int round = 0; round < 2; round++) {
        for (int i = 0; i < leavesCount; i++) {
          assertThat(objects.get(LEAVES, keys.get(i))).as("leaf %d, evicted or not", i)
              .contains(new Leaf(text(i, 100)));
          assertThat(cache.stats().weightBytes()).isLessThanOrEqualTo(TINY_CACHE_BYTES);
        }
      }
      CacheStats afterGets = cache.stats();
      assertThat(afterGets.misses()).as("evicted values were loaded again").isPositive();
      assertThat(afterGets.evictions()).isGreaterThan(afterPuts.evictions());

      ContentKey big = objects.put(LEAVES, new Leaf(text(-1, 4096)));
      assertThat(objects.get(LEAVES, big)).as("a value larger than the whole cache still reads")
          .contains(new Leaf(text(-1, 4096)));
      assertThat(cache.stats().weightBytes()).isLessThanOrEqualTo(TINY_CACHE_BYTES);
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aZeroByteCacheHoldsNothingButStillServes(Backend backend) {
    try (ObjectStore objects = ObjectStore.open(config(backend).withCacheBytesMax(0), List.of(LEAVES))) {
      ContentKey key = objects.put(LEAVES, new Leaf("uncached"));
      for (int i = 0; i < 3; i++) {
        assertThat(objects.get(LEAVES, key)).contains(new Leaf("uncached"));
      }
      assertThat(objects.cache().stats().weightBytes()).isZero();
      assertThat(objects.cache().stats().entries()).isZero();
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aDanglingRefIsCorruptionNamingItsKey(Backend backend) {
    try (ObjectStore objects = ObjectStore.open(config(backend), List.of(LEAVES))) {
      ContentTable<Node> nodes = nodes(objects.cache());
      objects.register(List.of(nodes));
      Leaf neverStored = new Leaf("never stored");
      ContentKey missing = LEAVES.keyOf(neverStored);

      assertThat(objects.get(LEAVES, missing)).as("a plain get of a missing key is empty").isEmpty();
      assertThatThrownBy(() -> objects.ref(LEAVES, missing).get())
          .isInstanceOfSatisfying(CorruptionException.class,
              e -> assertThat(e.location()).contains(missing.toString()).contains(LEAVES.name()));

      ContentKey nodeKey = objects.put(nodes, new Node("points nowhere", Ref.of(LEAVES, neverStored)));
      objects.cache().invalidateAll();
      Node node = objects.get(nodes, nodeKey).orElseThrow();
      assertThat(node.leaf().key()).isEqualTo(missing);
      assertThatThrownBy(() -> node.leaf().get()).as("the dangling ref fails only when followed")
          .isInstanceOf(CorruptionException.class);
    }
  }

  @Test
  void pinnedRefsNeverTouchTheCache() {
    try (ObjectStore objects = ObjectStore.open(config(Backend.ROCKSDB), List.of(LEAVES))) {
      Leaf leaf = new Leaf("pinned");
      Ref<Leaf> ref = Ref.of(LEAVES, leaf);
      CacheStats before = objects.cache().stats();
      assertThat(ref.isPinned()).isTrue();
      assertThat(ref.get()).isSameAs(leaf);
      assertThat(objects.cache().stats()).isEqualTo(before);
      assertThat(ref).isEqualTo(objects.ref(LEAVES, LEAVES.keyOf(leaf)));
    }
  }

  @Test
  void cacheRejectsBadArguments() {
    try (ObjectStore objects = ObjectStore.open(config(Backend.ROCKSDB), List.of(LEAVES))) {
      assertThatThrownBy(() -> new ObjectCache(objects.store(), -1)).isInstanceOf(IllegalArgumentException.class);
      ContentTable<Node> nodes = nodes(objects.cache());
      ContentKey leafKey = LEAVES.keyOf(new Leaf("x"));
      assertThatThrownBy(() -> objects.cache().offer(nodes, leafKey, null, 1))
          .as("a key of another table").isInstanceOf(IllegalArgumentException.class);
    }
  }
}
