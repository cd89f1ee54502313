package dev.bulwark.store;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.Mutation;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.WriteSet;
import java.nio.file.Path;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The storage SPI every backend implements: ordered bytes to bytes, consistent snapshots and
 * atomic write batches. Reads on the store itself see the latest committed writes.
 *
 * <p>Implementations are thread-safe. After {@link #close()} every operation, and every
 * snapshot and cursor still open, fails with {@link IllegalStateException} instead of
 * touching freed native memory.
 */
public interface KeyValueStore extends ReadView, AutoCloseable {
  /** A snapshot of the committed state now; later writes are invisible to it. */
  StoreSnapshot snapshot();

  /** Applies every mutation of {@code writes} atomically: after a crash, all or none are there. */
  void write(WriteSet writes, Durability durability);

  /**
   * Applies {@code writes} and puts {@code key} = {@code value}, all atomically, replacing any
   * write of {@code key} in {@code writes}: a batch plus one entry of bookkeeping (a replica's
   * applied mark) without copying thousands of writes to add it. Backends that can append to
   * their native batch override this copy.
   */
  default void write(WriteSet writes, Bytes key, Bytes value, Durability durability) {
    NavigableMap<Bytes, Mutation> all = new TreeMap<>(writes.mutations());
    all.put(key, new Mutation.Put(value));
    write(WriteSet.adopt(all), durability);
  }

  /**
   * Writes a consistent copy of the whole store into {@code target} (which must not exist), a
   * directory that {@link Backend#open} opens as a store. Concurrent writes go on; the copy is
   * as of one moment. RocksDB hard-links its immutable files, so this is cheap.
   */
  void checkpoint(Path target);

  Backend backend();

  Path directory();

  /**
   * The backend's own figures for operators (sizes, key estimates, background work), by a
   * stable name; empty if the backend keeps none.
   */
  default java.util.Map<String, Long> statistics() {
    return java.util.Map.of();
  }

  /** Closes open snapshots and cursors, then the database. Idempotent. */
  @Override
  void close();
}
