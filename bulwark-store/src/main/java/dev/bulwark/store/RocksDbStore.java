package dev.bulwark.store;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.Entry;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.Mutation;
import dev.bulwark.core.kv.WriteSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/** The default backend: one RocksDB database, one column family, keys prefixed by table id. */
final class RocksDbStore implements KeyValueStore {
  static {
    RocksDB.loadLibrary();
  }

  private final Path directory;
  private final Options options;
  private final BloomFilter filter;
  private final RocksDB db;
  private final ReadOptions latest = new ReadOptions();
  private final WriteOptions syncWrites = new WriteOptions().setSync(true);
  private final WriteOptions plainWrites = new WriteOptions().setSync(false);
  private final CloseGuard guard;

  private RocksDbStore(Path directory, Options options, BloomFilter filter, RocksDB db) {
    this.directory = directory;
    this.options = options;
    this.filter = filter;
    this.db = db;
    this.guard = new CloseGuard("RocksDB store " + directory);
  }

  static RocksDbStore open(Path directory) {
    try {
      Files.createDirectories(directory);
    } catch (IOException e) {
      throw new StoreException("cannot create store directory " + directory, e);
    }
    BloomFilter filter = new BloomFilter(10);
    Options options = new Options()
        .setCreateIfMissing(true)
        .setTableFormatConfig(new BlockBasedTableConfig().setFilterPolicy(filter));
    try {
      return new RocksDbStore(directory, options, filter, RocksDB.open(options, directory.toString()));
    } catch (RocksDBException e) {
      options.close();
      filter.close();
      throw new StoreException("cannot open RocksDB store in " + directory, e);
    }
  }

  @Override
  public void checkpoint(Path target) {
    guard.run(() -> {
      try (org.rocksdb.Checkpoint checkpoint = org.rocksdb.Checkpoint.create(db)) {
        checkpoint.createCheckpoint(target.toString());
      } catch (RocksDBException e) {
        throw new StoreException("RocksDB checkpoint of " + directory + " into " + target + " failed", e);
      }
    });
  }

  @Override
  public Backend backend() {
    return Backend.ROCKSDB;
  }

  @Override
  public Path directory() {
    return directory;
  }

  /** RocksDB properties worth watching, under their RocksDB names without the "rocksdb." prefix. */
  private static final java.util.List<String> WATCHED_PROPERTIES = java.util.List.of("estimate-num-keys",
      "total-sst-files-size", "live-sst-files-size", "cur-size-all-mem-tables", "estimate-pending-compaction-bytes",
      "num-running-compactions", "num-running-flushes", "background-errors");

  @Override
  public java.util.Map<String, Long> statistics() {
    return guard.read(() -> {
      java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
      for (String name : WATCHED_PROPERTIES) {
        try {
          out.put(name, db.getLongProperty("rocksdb." + name));
        } catch (RocksDBException e) {
          // a property this RocksDB build does not know: left out
        }
      }
      return out;
    });
  }

  @Override
  public Optional<Bytes> get(Bytes key) {
    return guard.read(() -> get(latest, key));
  }

  private Optional<Bytes> get(ReadOptions readOptions, Bytes key) {
    try {
      byte[] value = db.get(readOptions, key.unsafeArray());
      return value == null ? Optional.empty() : Optional.of(Bytes.adopt(value));
    } catch (RocksDBException e) {
      throw new StoreException("RocksDB read failed in " + directory, e);
    }
  }

  @Override
  public Cursor scan(KeyRange range) {
    return guard.read(() -> new RocksCursor(latest, range));
  }

  @Override
  public StoreSnapshot snapshot() {
    return guard.read(RocksSnapshot::new);
  }

  @Override
  public void write(WriteSet writes, Durability durability) {
    guard.run(() -> {
      try (WriteBatch batch = new WriteBatch()) {
        for (Map.Entry<Bytes, Mutation> e : writes.mutations().entrySet()) {
          switch (e.getValue()) {
            case Mutation.Put put -> batch.put(e.getKey().unsafeArray(), put.value().unsafeArray());
            case Mutation.Delete ignored -> batch.delete(e.getKey().unsafeArray());
          }
        }
        db.write(durability == Durability.SYNC ? syncWrites : plainWrites, batch);
      } catch (RocksDBException e) {
        throw new StoreException("RocksDB write of " + writes.size() + " keys failed in " + directory, e);
      }
    });
  }

  @Override
  public void close() {
    guard.close(() -> {
      try {
        db.syncWal();
      } catch (RocksDBException e) {
        // Synced batches are already durable; close anyway.
      }
      latest.close();
      syncWrites.close();
      plainWrites.close();
      db.close();
      options.close();
      filter.close();
    });
  }

  private final class RocksSnapshot implements StoreSnapshot {
    private final Snapshot snapshot = db.getSnapshot();
    private final ReadOptions readOptions = new ReadOptions().setSnapshot(snapshot);
    private volatile boolean closed;

    RocksSnapshot() {
      guard.register(this);
    }

    @Override public Optional<Bytes> get(Bytes key) {
      return guard.read(() -> {
        checkOpen();
        return RocksDbStore.this.get(readOptions, key);
      });
    }

    @Override public Cursor scan(KeyRange range) {
      return guard.read(() -> {
        checkOpen();
        return new RocksCursor(readOptions, range);
      });
    }

    private void checkOpen() {
      if (closed) {
        throw new IllegalStateException("snapshot is closed");
      }
    }

    @Override public void close() {
      guard.release(this, () -> {
        closed = true;
        readOptions.close();
        db.releaseSnapshot(snapshot);
      });
    }
  }

  private final class RocksCursor implements Cursor {
    private final RocksIterator iterator;
    private final Bytes end;
    private volatile boolean closed;
    private Entry next;

    RocksCursor(ReadOptions readOptions, KeyRange range) {
      this.iterator = db.newIterator(readOptions);
      this.end = range.end();
      guard.register(this);
      iterator.seek(range.start().unsafeArray());
      fetch();
    }

    private void fetch() {
      next = null;
      if (iterator.isValid()) {
        Bytes key = Bytes.adopt(iterator.key());
        if (end == null || key.compareTo(end) < 0) {
          next = new Entry(key, Bytes.adopt(iterator.value()));
        }
      } else {
        try {
          iterator.status();
        } catch (RocksDBException e) {
          throw new StoreException("RocksDB scan failed in " + directory, e);
        }
      }
    }

    /** A closed cursor (or one whose store closed) fails rather than look exhausted. */
    private void checkOpen() {
      guard.checkOpen();
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
      guard.run(() -> {
        checkOpen();
        iterator.next();
        fetch();
      });
      return out;
    }

    @Override public void close() {
      guard.release(this, () -> {
        closed = true;
        next = null;
        iterator.close();
      });
    }
  }
}
