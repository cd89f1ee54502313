package dev.bulwark.bench;

import dev.bulwark.core.table.ContentKey;
import dev.bulwark.core.table.Ref;
import dev.bulwark.store.CacheStats;
import dev.bulwark.store.Durability;
import dev.bulwark.store.ObjectStore;
import dev.bulwark.store.StoreConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * {@code Ref.get()} on a RocksDB {@link ObjectStore} whose content table holds
 * {@value #RECORDS} {@link Transfer}s, a random ref each call:
 *
 * <ul>
 *   <li>{@code cached}: the default 64 MiB object cache, warmed with every record, so each
 *       call is a Caffeine hit;
 *   <li>{@code uncached}: a cache bounded at 0 bytes ({@code withCacheBytesMax(0)}), so every
 *       call misses and loads: a RocksDB point read, the SHA-256 check against the key, the
 *       decode, and Caffeine inserting and at once evicting the entry;
 *   <li>{@code loadWithoutCache}: {@code ContentTable.get} straight on the store, the same
 *       read, check and decode without the cache: the difference to {@code uncached} is what
 *       the zero-bound cache itself costs on a miss.
 * </ul>
 *
 * <p>Each store is closed and reopened after loading, so the records are read from table
 * files through RocksDB's block cache, not from the memtable. The cache statistics are printed
 * at tear-down, to show that the hit ratios are what the names say.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
 * -jar bulwark-bench/target/benchmarks.jar RefBenchmark -f 1 -wi 3 -i 5}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class RefBenchmark {
  static final int RECORDS = 10_000;
  private static final int LOAD_BATCH = 1_000;

  /** A store of {@value #RECORDS} transfers and a lazy ref to each, with a given cache bound. */
  abstract static class Loaded {
    Path directory;
    ObjectStore objects;
    List<Ref<Transfer>> refs;

    abstract long cacheBytesMax();

    void load(String name) {
      directory = TempDirectory.create("bulwark-bench-" + name + "-");
      StoreConfig config = StoreConfig.defaults(directory)
          .withCacheBytesMax(cacheBytesMax())
          .withDurability(Durability.NO_SYNC);
      SplittableRandom random = new SplittableRandom(11);
      List<ContentKey> keys = new ArrayList<>(RECORDS);
      objects = ObjectStore.open(config, List.of(Transfer.TABLE));
      for (int loaded = 0; loaded < RECORDS; loaded += LOAD_BATCH) {
        objects.write(tx -> {
          for (int i = 0; i < LOAD_BATCH; i++) {
            keys.add(Transfer.TABLE.put(tx, Transfer.random(random)));
          }
          return null;
        });
      }
      objects.close();
      objects = ObjectStore.open(config, List.of(Transfer.TABLE));
      refs = new ArrayList<>(RECORDS);
      for (ContentKey key : keys) {
        Ref<Transfer> ref = objects.ref(Transfer.TABLE, key);
        ref.get(); // warms the cache where it has room, and checks every record loads
        refs.add(ref);
      }
    }

    Ref<Transfer> pick(KeyPicker picker) {
      return refs.get(picker.index(RECORDS));
    }

    void close(String name) {
      if (objects != null) {
        CacheStats stats = objects.cache().stats();
        System.out.printf("%n%s cache: hit ratio %.4f, %d hits, %d misses, %d evictions, %d entries, %d bytes%n",
            name, stats.hitRatio(), stats.hits(), stats.misses(), stats.evictions(), stats.entries(),
            stats.weightBytes());
        objects.close();
      }
      TempDirectory.delete(directory);
    }
  }

  /** The default cache bound: every record fits, so reads are hits once warm. */
  @State(Scope.Benchmark)
  public static class Cached extends Loaded {
    @Override long cacheBytesMax() {
      return StoreConfig.CACHE_BYTES_DEFAULT;
    }

    @Setup(Level.Trial) public void setUp() {
      load("cached");
    }

    @TearDown(Level.Trial) public void tearDown() {
      close("cached");
    }
  }

  /** A cache bounded at zero bytes: nothing stays, every read loads. */
  @State(Scope.Benchmark)
  public static class Uncached extends Loaded {
    @Override long cacheBytesMax() {
      return 0;
    }

    @Setup(Level.Trial) public void setUp() {
      load("uncached");
    }

    @TearDown(Level.Trial) public void tearDown() {
      close("uncached");
    }
  }

  @Benchmark
  public Transfer cached(Cached store, KeyPicker picker) {
    return store.pick(picker).get();
  }

  @Benchmark
  public Transfer uncached(Uncached store, KeyPicker picker) {
    return store.pick(picker).get();
  }

  @Benchmark
  public Optional<Transfer> loadWithoutCache(Uncached store, KeyPicker picker) {
    return Transfer.TABLE.get(store.objects.store(), store.pick(picker).key());
  }
}
