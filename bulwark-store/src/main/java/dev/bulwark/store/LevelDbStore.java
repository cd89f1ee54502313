package dev.bulwark.store;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.Entry;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.Mutation;
import dev.bulwark.core.kv.WriteSet;
import java.io.IOException;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.iq80.leveldb.DB;
import org.iq80.leveldb.DBException;
import org.iq80.leveldb.DBIterator;
import org.iq80.leveldb.Options;
import org.iq80.leveldb.ReadOptions;
import org.iq80.leveldb.Snapshot;
import org.iq80.leveldb.WriteBatch;
import org.iq80.leveldb.WriteOptions;
import org.iq80.leveldb.impl.Iq80DBFactory;

/**
 * The seed's LevelDB, through the pure-Java port: slower than RocksDB and unmaintained, kept
 * as a second backend so that nothing above the SPI depends on one engine.
 */
final class LevelDbStore implements KeyValueStore {
  private final Path directory;
  private final DB db;
  private final WriteOptions syncWrites = new WriteOptions().sync(true);
  private final WriteOptions plainWrites = new WriteOptions().sync(false);
  private final CloseGuard guard;

  private LevelDbStore(Path directory, DB db) {
    this.directory = directory;
    this.db = db;
    this.guard = new CloseGuard("LevelDB store " + directory);
  }

  static LevelDbStore open(Path directory) {
    try {
      Files.createDirectories(directory);
      Options options = new Options().createIfMissing(true).paranoidChecks(true);
      return new LevelDbStore(directory, Iq80DBFactory.factory.open(directory.toFile(), options));
    } catch (IOException | DBException e) {
      throw new StoreException("cannot open LevelDB store in " + directory, e);
    } catch (OverlappingFileLockException e) {
      // The directory is already open in this JVM: the same operating error as another process's lock.
      throw new StoreException("cannot open LevelDB store in " + directory + ": it is already open in this process", e);
    }
  }

  /** LevelDB has no checkpoints: copy every entry of a snapshot into a new database. */
  @Override
  public void checkpoint(Path target) {
    if (Files.exists(target)) {
      throw new StoreException("checkpoint target " + target + " already exists");
    }
    try (StoreSnapshot snapshot = snapshot(); LevelDbStore copy = open(target);
        dev.bulwark.core.kv.Cursor cursor = snapshot.scan(KeyRange.ALL)) {
      WriteSet.Builder batch = WriteSet.builder();
      int pending = 0;
      while (cursor.hasNext()) {
        dev.bulwark.core.kv.Entry e = cursor.next();
        batch.put(e.key(), e.value());
        if (++pending == 10_000) {
          copy.write(batch.build(), Durability.NO_SYNC);
          pending = 0;
        }
      }
      copy.write(batch.build(), Durability.SYNC);
    }
  }

  @Override
  public Backend backend() {
    return Backend.LEVELDB;
  }

  @Override
  public Path directory() {
    return directory;
  }

  @Override
  public Optional<Bytes> get(Bytes key) {
    return guard.read(() -> get(new ReadOptions(), key));
  }

  private Optional<Bytes> get(ReadOptions readOptions, Bytes key) {
    try {
      byte[] value = db.get(key.unsafeArray(), readOptions);
      return value == null ? Optional.empty() : Optional.of(Bytes.adopt(value));
    } catch (DBException e) {
      throw new StoreException("LevelDB read failed in " + directory, e);
    }
  }

  @Override
  public Cursor scan(KeyRange range) {
    return guard.read(() -> new LevelCursor(new ReadOptions(), range));
  }

  @Override
  public StoreSnapshot snapshot() {
    return guard.read(LevelSnapshot::new);
  }

  @Override
  public void write(WriteSet writes, Durability durability) {
    guard.run(() -> {
      try (WriteBatch batch = db.createWriteBatch()) {
        writes.forEachInOrder((key, mutation) -> {
          switch (mutation) {
            case Mutation.Put put -> batch.put(key.unsafeArray(), put.value().unsafeArray());
            case Mutation.Delete ignored -> batch.delete(key.unsafeArray());
          }
        });
        db.write(batch, durability == Durability.SYNC ? syncWrites : plainWrites);
      } catch (IOException | DBException e) {
        throw new StoreException("LevelDB write of " + writes.size() + " keys failed in " + directory, e);
      }
    });
  }

  @Override
  public void close() {
    guard.close(() -> {
      try {
        db.close();
      } catch (IOException e) {
        throw new StoreException("closing LevelDB store in " + directory + " failed", e);
      }
    });
  }

  private final class LevelSnapshot implements StoreSnapshot {
    private final Snapshot snapshot = db.getSnapshot();
    private volatile boolean closed;

    LevelSnapshot() {
      guard.register(this);
    }

    private ReadOptions options() {
      if (closed) {
        throw new IllegalStateException("snapshot is closed");
      }
      return new ReadOptions().snapshot(snapshot);
    }

    @Override public Optional<Bytes> get(Bytes key) {
      return guard.read(() -> LevelDbStore.this.get(options(), key));
    }

    @Override public Cursor scan(KeyRange range) {
      return guard.read(() -> new LevelCursor(options(), range));
    }

    @Override public void close() {
      guard.release(this, () -> {
        closed = true;
        try {
          snapshot.close();
        } catch (IOException e) {
          throw new StoreException("releasing a LevelDB snapshot failed", e);
        }
      });
    }
  }

  private final class LevelCursor implements Cursor {
    private final DBIterator iterator;
    private final Bytes end;
    private volatile boolean closed;
    private Entry next;

    LevelCursor(ReadOptions readOptions, KeyRange range) {
      this.iterator = db.iterator(readOptions);
      this.end = range.end();
      guard.register(this);
      iterator.seek(range.start().unsafeArray());
      fetch();
    }

    private void fetch() {
      next = null;
      if (iterator.hasNext()) {
        Map.Entry<byte[], byte[]> e = iterator.next();
        Bytes key = Bytes.adopt(e.getKey());
        if (end == null || key.compareTo(end) < 0) {
          next = new Entry(key, Bytes.adopt(e.getValue()));
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
        fetch();
      });
      return out;
    }

    @Override public void close() {
      guard.release(this, () -> {
        closed = true;
        next = null;
        try {
          iterator.close();
        } catch (IOException e) {
          throw new StoreException("closing a LevelDB iterator failed", e);
        }
      });
    }
  }
}
