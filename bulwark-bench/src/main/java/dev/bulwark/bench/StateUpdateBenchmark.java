package dev.bulwark.bench;

import dev.bulwark.store.CacheStats;
import dev.bulwark.store.ObjectStore;
import dev.bulwark.store.state.StateConfig;
import dev.bulwark.store.state.StateStore;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * Authenticated-state updates per second: one invocation is one version of
 * {@value StateFixture#BATCH} overwrites of uniformly random accounts (20-byte keys, 40-byte
 * account records) over a state of {@code keys} accounts in RocksDB, staged with
 * {@link StateStore#stage}, committed to a write set and written {@code NO_SYNC} (what
 * {@link StateStore#commit} does; see {@link StateFixture.Workload}). The batch is generated
 * inside the invocation (about a thousandth of its time): replaying pre-built batches would
 * rewrite values the accounts already hold, which the trie skips. The score is in
 * <em>updates</em> per second ({@code @OperationsPerInvocation}); divide by
 * {@value StateFixture#BATCH} for versions per second.
 *
 * <p><b>Garbage collection</b> runs inline, in the measured loop: every
 * {@value StateFixture#COLLECT_EVERY} versions, {@link StateStore#collectGarbage} deletes the
 * nodes of versions that fell out of the retained window ({@link StateConfig#DEFAULT}, 128
 * versions), so storage stays bounded and the score includes the deletes' cost (on a
 * two-core machine a background collector would compete for the same cores anyway).
 *
 * <p><b>Cache.</b> {@code cache=warm}: an object cache of {@link #WARM_CACHE_BYTES_PER_KEY}
 * bytes per key (1 GiB for a million keys, three quarters of it for state nodes), the whole
 * tree is loaded into it in set-up and its upper levels linked in memory
 * ({@code StateStore.linkUpperLevels}), so nodes never come from RocksDB (every node a version
 * writes below the linked levels is offered to the cache, and the collector drops the dead
 * ones). {@code cache=cold}: {@value #COLD_CACHE_MIB} MiB, so only the linked upper levels
 * (which the first versions link, one path at a time) and few deeper nodes stay in memory,
 * and most nodes near the leaves are read from RocksDB (its block cache and the OS page
 * cache, not necessarily the disk) and decoded and hash-checked again.
 *
 * <p><b>The state</b> is built in set-up in versions of {@value StateFixture#BUILD_BATCH}
 * keys and cached in {@code /tmp/bulwark-bench-state-<keys>} for later runs (see
 * {@link StateFixture}); here a million keys took 56 s to build, ten million 37 minutes
 * (with a 2.5 GiB cache and -Xmx8g, slowing from 70,000 to 4,500 keys/s, on a machine busy
 * with other work). Each run goes on from the latest version the previous run left. Build ten
 * million once outside JMH with {@code StateMemoryMain --keys 10000000 --build-only
 * --build-cache-mb 2560}; figures and commands are in {@code docs/state-performance.md}.
 *
 * <p>Secondary results (JMH auxiliary counters, per iteration): {@code writeBytesPerUpdate},
 * the key and value bytes of the committed write sets ({@code WriteSet.byteSize()}: new nodes,
 * root, journal, meta) divided by updates; {@code collectedNodesPerUpdate}, nodes the collector
 * deleted per update; {@code cacheHitPercent}, the object cache's hit ratio over the iteration.
 *
 * <p>Run (the default run is a million keys):
 * {@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
 * -jar bulwark-bench/target/benchmarks.jar StateUpdateBenchmark -p keys=1000000 -f 1 -wi 3 -i 5}.
 * Ten million, cold: {@code -p keys=10000000 -p cache=cold}. Ten million warm asks for a
 * 10 GiB cache; the tree alone is about 1.1 GB of encodings and, at about 2.5 bytes of heap
 * per byte of cache weight, needs more heap than the 6 GB below: give the fork more with
 * {@code -jvmArgsAppend "-Xmx16g --enable-native-access=ALL-UNNAMED
 * --sun-misc-unsafe-memory-access=allow"} (a command-line {@code -jvmArgsAppend} replaces the
 * annotation's) on a machine that has it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(StateFixture.BATCH)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 10)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class StateUpdateBenchmark {
  static final long WARM_CACHE_BYTES_PER_KEY = 1_073_741_824L / 1_000_000;
  static final int COLD_CACHE_MIB = 16;

  @Param({"1000000", "10000000"})
  public long keys;

  @Param({"warm", "cold"})
  public String cache;

  private ObjectStore objects;
  private StateFixture.Workload workload;

  @Setup(Level.Trial)
  public void setUp() {
    long cacheBytes = switch (cache) {
      case "warm" -> keys * WARM_CACHE_BYTES_PER_KEY;
      case "cold" -> (long) COLD_CACHE_MIB << 20;
      default -> throw new IllegalArgumentException("cache is warm or cold, not " + cache);
    };
    Path directory = StateFixture.prepare(keys, 256L << 20, System.out);
    objects = StateFixture.open(directory, cacheBytes);
    StateStore state = new StateStore(objects, StateConfig.DEFAULT);
    state.collectGarbage();
    if (cache.equals("warm")) {
      long started = System.nanoTime();
      StateFixture.TreeStats tree = StateFixture.walk(objects, state);
      state.linkUpperLevels();
      System.out.printf("warmed the cache in %.1f s: %s; cache %s%n", (System.nanoTime() - started) / 1e9, tree,
          objects.cache().stats());
    }
    workload = new StateFixture.Workload(objects, state, keys, 0x57A7E);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (objects != null) {
      StateStore state = workload.state;
      state.collectGarbage();
      System.out.printf("%nversions %d to %d; %d versions in this trial, write set %.0f bytes/update, collected %.2f nodes/update;"
              + " cache %s; %d MiB on disk%n",
          state.oldestRetainedVersion(), state.latestVersion(), workload.versions,
          (double) workload.writeBytes / Math.max(1, workload.updates),
          (double) workload.collectedNodes / Math.max(1, workload.updates), objects.cache().stats(),
          StateFixture.directorySize(objects.store().directory()) >> 20);
      objects.close();
    }
  }

  /**
   * Per-iteration secondary results (see the class comment), computed from what the workload
   * and the cache counted since the iteration began. JMH adds up {@code EVENTS} counters over
   * the measurement iterations ("[Sum]"), so each iteration reports its value divided by the
   * number of measurement iterations: the sum then reads as the mean of the iterations.
   */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.EVENTS)
  public static class Counters {
    private StateUpdateBenchmark owner;
    private int iterations;
    private long updates;
    private long writeBytes;
    private long collected;
    private CacheStats cache;

    @Setup(Level.Iteration)
    public void reset(StateUpdateBenchmark benchmark, BenchmarkParams params) {
      owner = benchmark;
      iterations = Math.max(1, params.getMeasurement().getCount());
      updates = benchmark.workload.updates;
      writeBytes = benchmark.workload.writeBytes;
      collected = benchmark.workload.collectedNodes;
      cache = benchmark.objects.cache().stats();
    }

    private double perUpdate(long now, long then) {
      long n = owner == null ? 0 : owner.workload.updates - updates;
      return n == 0 ? 0 : (double) (now - then) / n / iterations;
    }

    public double writeBytesPerUpdate() {
      return owner == null ? 0 : perUpdate(owner.workload.writeBytes, writeBytes);
    }

    public double collectedNodesPerUpdate() {
      return owner == null ? 0 : perUpdate(owner.workload.collectedNodes, collected);
    }

    public double cacheHitPercent() {
      if (owner == null) {
        return 0;
      }
      CacheStats now = owner.objects.cache().stats();
      long hits = now.hits() - cache.hits();
      long lookups = hits + now.misses() - cache.misses();
      return lookups == 0 ? 0 : 100.0 * hits / lookups / iterations;
    }
  }

  @Benchmark
  public long update(Counters counters) {
    return workload.commit(workload.randomBatch());
  }
}
