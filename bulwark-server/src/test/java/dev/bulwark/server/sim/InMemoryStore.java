package dev.bulwark.server.sim;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.Entry;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.Mutation;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.store.Backend;
import dev.bulwark.store.Durability;
import dev.bulwark.store.KeyValueStore;
import dev.bulwark.store.StoreSnapshot;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The simulator's key-value store: a model of the {@link KeyValueStore} contract in memory.
 * The simulator used to run every seed on four RocksDB stores, reused and emptied between
 * seeds; most of a seed's time then went to RocksDB stepping over the tombstones the emptying
 * left. A store in memory is made new for each seed instead, and costs no native calls.
 *
 * <p>RocksDB is not left untested by this: bulwark-store checks it against the same contract
 * ({@code KeyValueStoreContractTest}, {@code KeyValueStoreModelTest}); {@link InMemoryStoreTest}
 * checks this store against RocksDB operation by operation; {@link SimulationTest} runs seeds
 * on both and requires the same trace; and {@code --store rocksdb} runs any seed on RocksDB.
 *
 * <p>Multi-version, as RocksDB is: each key keeps its versions newest first, each stamped with
 * the sequence number of the write that made it (a null value: deleted). A snapshot, and a
 * cursor on the store itself (as a RocksDB iterator), reads as of the last write published when
 * it was made, so later writes are invisible to it; a write publishes all its mutations at once.
 * Old versions are kept: a store lives for one seed.
 */
final class InMemoryStore implements KeyValueStore {
  private record Version(long sequence, Bytes value, Version older) {}

  private final Path directory;
  private final ConcurrentSkipListMap<Bytes, Version> versions = new ConcurrentSkipListMap<>();
  private final Object writer = new Object();
  private volatile long published;
  private volatile boolean closed;

  /** {@code directory} only names the store (in messages); nothing is written there. */
  InMemoryStore(Path directory) {
    this.directory = directory;
  }

  @Override public Optional<Bytes> get(Bytes key) {
    checkOpen();
    return read(key, published);
  }

  @Override public Cursor scan(KeyRange range) {
    checkOpen();
    return new VersionCursor(range, published, null);
  }

  @Override public StoreSnapshot snapshot() {
    checkOpen();
    return new Snapshot(published);
  }

  @Override public void write(WriteSet writes, Durability durability) {
    synchronized (writer) {
      checkOpen();
      long sequence = published + 1;
      for (Map.Entry<Bytes, Mutation> m : writes.mutations().entrySet()) {
        Bytes value = switch (m.getValue()) {
          case Mutation.Put put -> put.value();
          case Mutation.Delete delete -> null;
        };
        versions.put(m.getKey(), new Version(sequence, value, versions.get(m.getKey())));
      }
      published = sequence;
    }
  }

  @Override public void checkpoint(Path target) {
    throw new UnsupportedOperationException("the simulator's in-memory store takes no checkpoints");
  }

  /** The backend this store stands in for. */
  @Override public Backend backend() {
    return Backend.ROCKSDB;
  }

  @Override public Path directory() {
    return directory;
  }

  @Override public void close() {
    closed = true;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("in-memory store " + directory + " is closed");
    }
  }

  private Optional<Bytes> read(Bytes key, long asOf) {
    return Optional.ofNullable(visible(versions.get(key), asOf));
  }

  /** The value {@code newest}'s key held as of sequence number {@code asOf}; null if none. */
  private static Bytes visible(Version newest, long asOf) {
    Version v = newest;
    while (v != null && v.sequence() > asOf) {
      v = v.older();
    }
    return v == null ? null : v.value();
  }

  private final class Snapshot implements StoreSnapshot {
    private final long asOf;
    private volatile boolean closed;

    Snapshot(long asOf) {
      this.asOf = asOf;
    }

    @Override public Optional<Bytes> get(Bytes key) {
      checkOpen();
      return read(key, asOf);
    }

    @Override public Cursor scan(KeyRange range) {
      checkOpen();
      return new VersionCursor(range, asOf, this);
    }

    void checkOpen() {
      InMemoryStore.this.checkOpen();
      if (closed) {
        throw new IllegalStateException("snapshot is closed");
      }
    }

    @Override public void close() {
      closed = true;
    }
  }

  /**
   * The entries of a range as of one sequence number. The skip list's iterator is weakly
   * consistent: keys inserted meanwhile may show up, but only with versions too new to see.
   */
  private final class VersionCursor implements Cursor {
    private final Iterator<Map.Entry<Bytes, Version>> keys;
    private final long asOf;
    private final Snapshot snapshot;
    private boolean closed;
    private Entry next;

    VersionCursor(KeyRange range, long asOf, Snapshot snapshot) {
      ConcurrentNavigableMap<Bytes, Version> within = range.end() == null
          ? versions.tailMap(range.start(), true)
          : versions.subMap(range.start(), true, range.end(), false);
      this.keys = within.entrySet().iterator();
      this.asOf = asOf;
      this.snapshot = snapshot;
      fetch();
    }

    private void fetch() {
      next = null;
      while (next == null && keys.hasNext()) {
        Map.Entry<Bytes, Version> e = keys.next();
        Bytes value = visible(e.getValue(), asOf);
        if (value != null) {
          next = new Entry(e.getKey(), value);
        }
      }
    }

    private void checkOpen() {
      if (snapshot != null) {
        snapshot.checkOpen();
      } else {
        InMemoryStore.this.checkOpen();
      }
      if (closed) {
        throw new IllegalStateException("cursor is closed");
      }
    }

    @Override public boolean hasNext() {
      checkOpen();
      return next != null;
    }

    @Override public Entry next() {
      checkOpen();
      if (next == null) {
        throw new NoSuchElementException();
      }
      Entry out = next;
      fetch();
      return out;
    }

    @Override public void close() {
      closed = true;
    }
  }
}
