package dev.bulwark.server.sim;

import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.table.TableId;
import dev.bulwark.server.engine.EngineTables;
import dev.bulwark.store.Durability;
import dev.bulwark.store.ObjectStore;
import dev.bulwark.store.StoreConfig;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Where a worker's seeds keep their state: four object stores per seed (three replicas and the
 * auditor), empty at the start of the seed. {@link InMemory}, the default, makes new
 * {@link InMemoryStore}s for every seed; {@link RocksDb} runs the seeds on the real engine.
 */
sealed interface SimStores extends AutoCloseable permits SimStores.InMemory, SimStores.RocksDb {
  int STORES = Simulation.REPLICAS + 1;

  /** The stores for the next seed, empty; the caller neither closes them nor keeps them. */
  ObjectStore[] fresh();

  Kind kind();

  @Override
  void close();

  /** The kinds of store, by their {@code --store} name. */
  enum Kind {
    MEMORY, ROCKSDB;

    /** A worker's stores of this kind; RocksDB's under {@code dir}. */
    SimStores open(Path dir) {
      return switch (this) {
        case MEMORY -> new InMemory();
        case ROCKSDB -> new RocksDb(dir);
      };
    }

    static Kind parse(String name) {
      return valueOf(name.toUpperCase(Locale.ROOT));
    }

    String flag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private static StoreConfig config(Path dir) {
    return StoreConfig.defaults(dir).withDurability(Durability.NO_SYNC).withCacheBytesMax(1L << 20);
  }

  /** New in-memory stores for every seed: nothing to empty, nothing to delete. */
  final class InMemory implements SimStores {
    private ObjectStore[] current;

    @Override public ObjectStore[] fresh() {
      close();
      current = new ObjectStore[STORES];
      for (int i = 0; i < STORES; i++) {
        Path name = Path.of("in-memory-" + i);
        current[i] = ObjectStore.over(new InMemoryStore(name), config(name), EngineTables.all(new SimApp().tables()));
      }
      return current.clone();
    }

    @Override public Kind kind() {
      return Kind.MEMORY;
    }

    @Override public void close() {
      if (current != null) {
        for (ObjectStore s : current) {
          s.close();
        }
        current = null;
      }
    }
  }

  /**
   * One worker's RocksDB stores, reused from seed to seed: opening four stores costs more than
   * a whole simulated run (RocksDB syncs its files on open), so each seed gets the same stores
   * emptied instead (every key but the table registry deleted, the object caches dropped). Every
   * {@value #SEEDS_PER_OPEN} seeds they are deleted and opened anew, so tombstones do not pile
   * up without end (skipping them is most of a seed's time on RocksDB all the same).
   */
  final class RocksDb implements SimStores {
    static final int SEEDS_PER_OPEN = 50;
    private static final int KEYS_MAX = 10_000_000;

    private final Path dir;
    private final ObjectStore[] stores = new ObjectStore[STORES];
    private int generation;
    private int uses;

    RocksDb(Path dir) {
      this.dir = dir;
    }

    @Override public ObjectStore[] fresh() {
      if (stores[0] == null || uses == SEEDS_PER_OPEN) {
        closeAll();
        generation++;
        uses = 0;
        for (int i = 0; i < STORES; i++) {
          stores[i] = ObjectStore.open(config(dir.resolve("g" + generation + "-" + i)),
              EngineTables.all(new SimApp().tables()));
        }
      } else {
        for (ObjectStore s : stores) {
          empty(s);
        }
      }
      uses++;
      return stores.clone();
    }

    @Override public Kind kind() {
      return Kind.ROCKSDB;
    }

    private static void empty(ObjectStore objects) {
      WriteSet.Builder deletes = WriteSet.builder();
      try (Cursor cursor = objects.store().scan(KeyRange.ALL)) {
        for (int n = 0; cursor.hasNext() && n < KEYS_MAX; n++) {
          var key = cursor.next().key();
          if (!key.startsWith(TableId.META.prefix())) {
            deletes.delete(key);
          }
        }
      }
      objects.store().write(deletes.build(), Durability.NO_SYNC);
      objects.cache().invalidateAll();
      objects.cache().invalidateAllImmutable();
    }

    private void closeAll() {
      for (int i = 0; i < STORES; i++) {
        if (stores[i] != null) {
          stores[i].close();
          stores[i] = null;
        }
      }
      Simulation.deleteTree(dir);
    }

    @Override public void close() {
      closeAll();
    }
  }
}
