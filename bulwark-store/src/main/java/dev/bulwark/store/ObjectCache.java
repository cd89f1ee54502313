package dev.bulwark.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.CorruptionException;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.table.ContentKey;
import dev.bulwark.core.table.ContentTable;
import dev.bulwark.core.table.RefResolver;
import java.util.Optional;

/**
 * The one shared cache of decoded content-addressed values, bounded by the bytes of their
 * encodings. Caffeine's W-TinyLFU keeps hot objects without a global LRU lock (the seed's
 * worry). Content is immutable, so an entry never goes stale: it can only be evicted.
 */
public final class ObjectCache implements RefResolver {
  private final ReadView source;
  private final Cache<ContentKey, Object> cache;

  /**
   * @param source where misses are loaded from (the live store: content never changes)
   * @param weightBytesMax the bound on the encoded bytes of the values held
   */
  public ObjectCache(ReadView source, long weightBytesMax) {
    if (weightBytesMax < 0) {
      throw new IllegalArgumentException("cache weight bound must be non-negative: " + weightBytesMax);
    }
    this.source = source;
    this.cache = Caffeine.newBuilder()
        .maximumWeight(weightBytesMax)
        .<ContentKey, Object>weigher((key, value) -> ((Weighed) value).weight())
        .executor(Runnable::run)
        .recordStats()
        .build();
  }

  /** A decoded value and the size of its encoding, which is what the cache bound counts. */
  private record Weighed(Object value, int weight) {}

  /** The value under {@code key}, from memory or loaded (and checked) from the source. */
  public <T> Optional<T> find(ContentTable<T> table, ContentKey key) {
    return find(table, key, source);
  }

  /**
   * The value under {@code key}, from memory or loaded from {@code view}: a snapshot or a
   * transaction whose new content is not committed yet. Content never changes, so a value
   * read from any view is the value for everyone.
   */
  public <T> Optional<T> find(ContentTable<T> table, ContentKey key, ReadView view) {
    Weighed found = (Weighed) cache.get(key, k -> load(table, k, view));
    return found == null ? Optional.empty() : Optional.of(cast(found.value()));
  }

  private <T> Weighed load(ContentTable<T> table, ContentKey key, ReadView view) {
    Optional<Bytes> stored = view.get(key.toBytes());
    if (stored.isEmpty()) {
      return null;
    }
    T value = table.decodeStored(key, stored.get());
    return new Weighed(value, Math.max(1, stored.get().length()));
  }

  /** Puts a value known to be stored (just written) so that its first read is a hit. */
  public <T> void offer(ContentTable<T> table, ContentKey key, T value, int encodedBytes) {
    if (!key.table().equals(table.id())) {
      throw new IllegalArgumentException("key " + key + " is not in table " + table.name());
    }
    cache.put(key, new Weighed(value, Math.max(1, encodedBytes)));
  }

  @Override
  public <T> T resolve(ContentTable<T> table, ContentKey key) {
    return find(table, key).orElseThrow(
        () -> new CorruptionException("content key " + key + " of table " + table.name(), "dangling reference: not stored"));
  }

  /** Drops one entry, for content that was deleted from the store. */
  public void invalidate(ContentKey key) {
    cache.invalidate(key);
  }

  /** Drops every entry (for tests and benchmarks of the uncached path). */
  public void invalidateAll() {
    cache.invalidateAll();
    cache.cleanUp();
  }

  public CacheStats stats() {
    com.github.benmanes.caffeine.cache.stats.CacheStats s = cache.stats();
    long weight = cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    return new CacheStats(s.hitCount(), s.missCount(), s.evictionCount(), s.totalLoadTime(), weight,
        cache.estimatedSize());
  }

  @SuppressWarnings("unchecked")
  private static <T> T cast(Object value) {
    return (T) value;
  }
}
