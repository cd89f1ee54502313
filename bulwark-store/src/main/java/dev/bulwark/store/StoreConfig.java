package dev.bulwark.store;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Every setting of a local database, validated in one place: a bad value fails at start with
 * a message that names the setting.
 *
 * @param directory where the database lives
 * @param backend the storage engine
 * @param cacheBytesMax bound on the encoded bytes the object cache holds
 * @param durability whether writes wait for fsync by default
 */
public record StoreConfig(Path directory, Backend backend, long cacheBytesMax, Durability durability) {
  /** 64 MiB of decoded objects by default. */
  public static final long CACHE_BYTES_DEFAULT = 64L << 20;

  public StoreConfig {
    Objects.requireNonNull(directory, "store.directory must be set");
    Objects.requireNonNull(backend, "store.backend must be set");
    Objects.requireNonNull(durability, "store.durability must be set");
    if (cacheBytesMax < 0 || cacheBytesMax > (1L << 40)) {
      throw new IllegalArgumentException("store.cacheBytesMax must be between 0 and 1 TiB, got " + cacheBytesMax);
    }
  }

  /** RocksDB, a 64 MiB cache, synced writes. */
  public static StoreConfig defaults(Path directory) {
    return new StoreConfig(directory, Backend.ROCKSDB, CACHE_BYTES_DEFAULT, Durability.SYNC);
  }

  public StoreConfig withBackend(Backend newBackend) {
    return new StoreConfig(directory, newBackend, cacheBytesMax, durability);
  }

  public StoreConfig withCacheBytesMax(long bytes) {
    return new StoreConfig(directory, backend, bytes, durability);
  }

  public StoreConfig withDurability(Durability newDurability) {
    return new StoreConfig(directory, backend, cacheBytesMax, newDurability);
  }
}
