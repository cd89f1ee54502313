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
import java.util.function.Function;

/**
 * The one shared cache of decoded immutable values, bounded by the bytes of their encodings.
 * Content-addressed values live in Caffeine, whose W-TinyLFU keeps hot objects without a
 * global LRU lock (the seed's worry); values under plain keys that are written once and only
 * ever deleted after (state trie nodes, see {@link #findImmutable}) live in a leaner
 * {@link PlainCache} with {@value #PLAIN_SHARE} of the bound, because a trie update makes
 * several cache operations per node and Caffeine's policy cost more than the trie work. An
 * entry never goes stale: it can only be evicted or dropped.
 */
public final class ObjectCache implements RefResolver {
  private final ReadView source;
  private final Cache<ContentKey, Object> cache;
  /** Immutable values under plain keys (state trie nodes), with their own share of the bound. */
  private final PlainCache plain;

  /** The share of the bound that values under plain keys get: the state trie's nodes, the bulk of what is cached. */
  static final double PLAIN_SHARE = 0.75;

  /**
   * @param source where misses are loaded from (the live store: content never changes)
   * @param weightBytesMax the bound on the encoded bytes of the values held
   */
  public ObjectCache(ReadView source, long weightBytesMax) {
    if (weightBytesMax < 0) {
      throw new IllegalArgumentException("cache weight bound must be non-negative: " + weightBytesMax);
    }
    this.source = source;
    long plainMax = (long) (weightBytesMax * PLAIN_SHARE);
    this.plain = new PlainCache(plainMax);
    this.cache = Caffeine.newBuilder()
        .maximumWeight(weightBytesMax - plainMax)
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
    Weighed found = (Weighed) cache.get(key, k -> load(table, key, view));
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

  /**
   * The value stored under {@code storeKey}, from memory or read from {@code view} and decoded
   * with {@code decode}. For values that are never rewritten under their key once written (the
   * caller's promise: a key is written once, and only deleted after that), so a value read from
   * any view is the value for everyone. The cache tells keys apart by a 64-bit hash only (see
   * {@link PlainCache}): the caller checks the value it gets, and on a wrong one calls
   * {@link #invalidateImmutable} and asks again.
   */
  public <T> Optional<T> findImmutable(Bytes storeKey, ReadView view, Function<Bytes, T> decode) {
    byte[] key = storeKey.unsafeArray();
    long tag = PlainCache.tag(key);
    Object cached = plain.get(tag);
    if (cached != null) {
      return Optional.of(cast(cached));
    }
    Optional<Bytes> stored = view.get(storeKey);
    if (stored.isEmpty()) {
      return Optional.empty();
    }
    T value = decode.apply(stored.get());
    plain.put(tag, value, Math.max(1, stored.get().length()));
    return Optional.of(value);
  }

  /** Puts an immutable value just written under {@code storeKey} (see {@link #findImmutable}). */
  public void offerImmutable(Bytes storeKey, Object value, int encodedBytes) {
    byte[] key = storeKey.unsafeArray();
    plain.put(PlainCache.tag(key), value, Math.max(1, encodedBytes));
  }

  /** Drops every immutable value: for when values once cached may not be what the store holds (a discarded write). */
  public void invalidateAllImmutable() {
    plain.clear();
  }

  /** Drops the entry of an immutable value that was deleted from the store. */
  public void invalidateImmutable(Bytes storeKey) {
    byte[] key = storeKey.unsafeArray();
    plain.remove(PlainCache.tag(key));
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
    plain.clear();
    cache.invalidateAll();
    cache.cleanUp();
  }

  public CacheStats stats() {
    com.github.benmanes.caffeine.cache.stats.CacheStats s = cache.stats();
    long weight = cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    return new CacheStats(s.hitCount() + plain.hits(), s.missCount() + plain.misses(), s.evictionCount() + plain.evictions(),
        s.totalLoadTime(), weight + plain.weight(), cache.estimatedSize() + plain.size());
  }

  @SuppressWarnings("unchecked")
  private static <T> T cast(Object value) {
    return (T) value;
  }
}
