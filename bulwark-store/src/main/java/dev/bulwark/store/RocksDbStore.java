package dev.bulwark.store;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.Entry;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.WriteSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.CompressionType;
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
    RocksDbNative.load();
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

  /** Level-0 files that start a compaction into level 1 (RocksDB's default is 4); see {@link #open}. */
  static final int LEVEL0_FILES_PER_COMPACTION = 8;
  /** Level 1's target size (RocksDB's default is 256 MiB); see {@link #open}. */
  static final long LEVEL1_BYTES_MAX = 1L << 30;

  static RocksDbStore open(Path directory) {
    try {
      Files.createDirectories(directory);
    } catch (IOException e) {
      throw new StoreException("cannot create store directory " + directory, e);
    }
    BloomFilter filter = new BloomFilter(10);
    // No block compression: most of what a replica writes is SHA-256 output (state trie nodes,
    // log nodes, signatures), which does not compress, yet Snappy spent half of RocksDB's
    // flush and compaction CPU trying, and every read of a block decompressed it. Measured on
    // the 1M-account state: 3% more disk, half the background CPU (docs/state-performance.md).
    //
    // Fewer, larger compactions: the state collector deletes nodes written hundreds of versions
    // earlier, all over the key space, so every level-0 file overlaps all of level 1 and each
    // level-0 compaction rewrites level 1 whole. Merging 8 level-0 files at a time instead of
    // RocksDB's 4, into a level 1 of up to 1 GiB instead of 256 MiB (so a state of a few million
    // accounts stays in two levels), cut RocksDB's CPU per state update by 40% (1M accounts, 2.8M
    // updates: 16.6 to 9.4 us) for up to 512 MiB more of level 0 on disk between compactions.
    Options options = new Options()
        .setCreateIfMissing(true)
        .setCompressionType(CompressionType.NO_COMPRESSION)
        .setLevel0FileNumCompactionTrigger(LEVEL0_FILES_PER_COMPACTION)
        .setMaxBytesForLevelBase(LEVEL1_BYTES_MAX)
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
      "num-running-compactions", "num-running-flushes", "background-errors", "block-cache-usage",
      "block-cache-pinned-usage", "estimate-table-readers-mem");

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
    write(writes, serialized(writes, null, null), durability);
  }

  /** The extra put goes last in the native batch, where it wins over a write of the same key. */
  @Override
  public void write(WriteSet writes, Bytes key, Bytes value, Durability durability) {
    write(writes, serialized(writes, java.util.Objects.requireNonNull(key), java.util.Objects.requireNonNull(value)),
        durability);
  }

  private void write(WriteSet writes, byte[] serialized, Durability durability) {
    guard.run(() -> {
      try (WriteBatch batch = new WriteBatch(serialized)) {
        db.write(durability == Durability.SYNC ? syncWrites : plainWrites, batch);
      } catch (RocksDBException e) {
        throw new StoreException("RocksDB write of " + writes.size() + " keys failed in " + directory, e);
      }
    });
  }

  // RocksDB's WriteBatch representation (db/write_batch.cc): a 12-byte header, fixed64 sequence
  // (RocksDB assigns it) and fixed32 count, little-endian; then per write a type byte and
  // varint32-length-prefixed key (and value). Records of the default column family only: type
  // 0x0 a deletion, 0x1 a value, the kinds of a write set's records.
  private static final int BATCH_HEADER_BYTES = 12;

  /**
   * The write set as one serialized RocksDB write batch, handed over in one native call: a
   * put or delete per native call costs more than the copying, with the many small keys of a
   * batch (trie nodes, log nodes, sessions, history) on every replica. A write set's records
   * form is RocksDB's record layout ({@link WriteSet}), so the batch is a header and one copy.
   */
  static byte[] serialized(WriteSet writes) {
    return serialized(writes, null, null);
  }

  /** As {@link #serialized(WriteSet)}, then a put of {@code extraKey} unless it is null. */
  static byte[] serialized(WriteSet writes, Bytes extraKey, Bytes extraValue) {
    int recordsLength = writes.recordsLength();
    long size = BATCH_HEADER_BYTES + (long) recordsLength;
    if (extraKey != null) {
      size += WriteSet.putRecordLength(extraKey, extraValue);
    }
    if (size > Integer.MAX_VALUE - 16) {
      throw new StoreException("a write of " + size + " bytes is too large for one RocksDB batch");
    }
    byte[] rep = new byte[(int) size];
    int count = writes.size() + (extraKey != null ? 1 : 0);
    rep[8] = (byte) count;
    rep[9] = (byte) (count >>> 8);
    rep[10] = (byte) (count >>> 16);
    rep[11] = (byte) (count >>> 24);
    writes.copyRecordsTo(rep, BATCH_HEADER_BYTES);
    int at = BATCH_HEADER_BYTES + recordsLength;
    if (extraKey != null) {
      at = WriteSet.putRecord(rep, at, extraKey, extraValue);
    }
    if (at != rep.length) {
      throw new IllegalStateException("write batch serialized to " + at + " of " + rep.length + " bytes");
    }
    return rep;
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
