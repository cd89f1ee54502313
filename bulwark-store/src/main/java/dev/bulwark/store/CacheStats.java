package dev.bulwark.store;

/**
 * A point-in-time reading of the object cache.
 *
 * @param hits lookups answered from memory
 * @param misses lookups that went to the store
 * @param evictions entries dropped to stay under the byte bound
 * @param loadTimeNs total time spent loading on misses
 * @param weightBytes encoded bytes held now
 * @param entries values held now
 */
public record CacheStats(long hits, long misses, long evictions, long loadTimeNs, long weightBytes, long entries) {
  public double hitRatio() {
    long lookups = hits + misses;
    return lookups == 0 ? 1.0 : (double) hits / lookups;
  }
}
