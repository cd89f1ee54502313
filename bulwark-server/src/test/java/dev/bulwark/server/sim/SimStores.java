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

/**
 * One worker's RocksDB stores, reused from seed to seed: opening four stores costs more than
 * a whole simulated run (RocksDB syncs its files on open), so each seed gets the same stores
 * emptied instead (every key but the table registry deleted, the object caches dropped). Every
 * {@value #SEEDS_PER_OPEN} seeds they are deleted and opened anew, so tombstones never pile up.
 */
final class SimStores implements AutoCloseable {
  static final int STORES = Simulation.REPLICAS + 1;
  static final int SEEDS_PER_OPEN = 50;
  private static final int KEYS_MAX = 10_000_000;

  private final Path dir;
  private final ObjectStore[] stores = new ObjectStore[STORES];
  private int generation;
  private int uses;

  SimStores(Path dir) {
    this.dir = dir;
  }

  /** The stores, empty; store {@code i} is always the same directory within a generation. */
  ObjectStore[] fresh() {
    if (stores[0] == null || uses == SEEDS_PER_OPEN) {
      closeAll();
      generation++;
      uses = 0;
      for (int i = 0; i < STORES; i++) {
        StoreConfig config = StoreConfig.defaults(dir.resolve("g" + generation + "-" + i))
            .withDurability(Durability.NO_SYNC).withCacheBytesMax(1L << 20);
        stores[i] = ObjectStore.open(config, EngineTables.all(new SimApp().tables()));
      }
    } else {
      for (ObjectStore s : stores) {
        empty(s);
      }
    }
    uses++;
    return stores.clone();
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

  @Override
  public void close() {
    closeAll();
  }
}
