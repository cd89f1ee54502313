package dev.bulwark.bench;

import dev.bulwark.store.CacheStats;
import dev.bulwark.store.ObjectStore;
import dev.bulwark.store.state.StateConfig;
import dev.bulwark.core.state.StateProof;
import dev.bulwark.store.state.StateStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Memory and speed of a large authenticated state under a bounded object cache: not a JMH
 * benchmark, because what it measures is the process (resident memory, heap after a full
 * collection, disk), not one operation.
 *
 * <p>It makes sure a state of {@code --keys} accounts exists (built in versions of
 * {@value StateFixture#BUILD_BATCH}, with progress, or reused from
 * {@code /tmp/bulwark-bench-state-<keys>}; see {@link StateFixture}), opens it with an object
 * cache of {@code --cache-mb} MiB, and commits {@code --batches} versions of
 * {@value StateFixture#BATCH} random account overwrites (NO_SYNC, the garbage collector inline
 * every {@value StateFixture#COLLECT_EVERY} versions, {@link StateConfig#DEFAULT} retention),
 * timing windows of {@code --window} versions. Then it prints updates per second (median,
 * minimum and maximum over the windows after the first, which warms the cache), updates per
 * CPU second of the whole process and of the committing thread (medians over the same
 * windows: on a machine shared with other work, wall-clock rates measure the neighbours), the cache's
 * weight, entries and hit ratio over the run, heap used after {@code System.gc()}, resident
 * memory ({@code VmRSS}, and the peak {@code VmHWM}, from {@code /proc/self/status}) and the
 * database's size on disk.
 *
 * <p>Resident memory depends on {@code -Xmx} as much as on the cache (a JVM keeps heap it once
 * grew into), so compare cache sizes at one {@code -Xmx}. A build in the same process grows
 * the heap too: build first with {@code --build-only}, then measure in a fresh process.
 *
 * <p>Run: {@code java -Xmx2g --enable-native-access=ALL-UNNAMED
 * --sun-misc-unsafe-memory-access=allow -cp bulwark-bench/target/benchmarks.jar
 * dev.bulwark.bench.StateMemoryMain --keys 10000000 --cache-mb 256}; options:
 * {@code --keys N} (default 1000000), {@code --cache-mb M} (256), {@code --batches B} (2000),
 * {@code --window W} (100), {@code --build-cache-mb M} (256, the cache while building),
 * {@code --build-only}, {@code --warm} (load the whole tree into the cache first and link
 * its upper levels, as {@code StateUpdateBenchmark}'s {@code cache=warm} does), {@code --dir D}
 * (the state's directory instead of {@code /tmp/bulwark-bench-state-<keys>}; an existing
 * complete state there is opened, not rebuilt), {@code --proofs P} (after the run, prove and
 * verify P random accounts and print the median and 99th-percentile times). The first window
 * is also printed on its own: opened without {@code --warm}, it is the cold start (empty
 * object cache; drop the OS page cache before for a cold disk too). The report ends with
 * RocksDB's own memory: block cache, memtables, and table readers (indexes and filters).
 * {@code --fill}: before the run, load the latest tree level by level, root first, until the
 * cache is about full, and link its upper levels: the steady state of a process whose cache
 * cannot hold the whole tree, without the thousands of batches it takes to get there.
 */
public final class StateMemoryMain {
  private StateMemoryMain() {}

  public static void main(String[] args) {
    long keys = 1_000_000;
    long cacheMb = 256;
    long buildCacheMb = 256;
    int batches = 2_000;
    int window = 100;
    boolean buildOnly = false;
    boolean warm = false;
    Path dir = null;
    int proofs = 0;
    boolean fill = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--keys" -> keys = Long.parseLong(args[++i]);
        case "--cache-mb" -> cacheMb = Long.parseLong(args[++i]);
        case "--build-cache-mb" -> buildCacheMb = Long.parseLong(args[++i]);
        case "--batches" -> batches = Integer.parseInt(args[++i]);
        case "--window" -> window = Integer.parseInt(args[++i]);
        case "--build-only" -> buildOnly = true;
        case "--warm" -> warm = true;
        case "--dir" -> dir = Path.of(args[++i]);
        case "--proofs" -> proofs = Integer.parseInt(args[++i]);
        case "--fill" -> fill = true;
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + "; use --keys N --cache-mb M --batches B --window W --build-cache-mb M --build-only --warm --dir D --proofs P --fill");
      }
    }
    if (keys < 1 || cacheMb < 0 || batches < 1 || window < 1) {
      throw new IllegalArgumentException("--keys, --batches and --window must be positive, --cache-mb not negative");
    }

    System.out.printf("state memory: %,d keys, cache %d MiB, %d batches of %d, -Xmx %d MiB%n", keys, cacheMb, batches,
        StateFixture.BATCH, Runtime.getRuntime().maxMemory() >> 20);
    Path directory = StateFixture.prepare(dir == null ? StateFixture.cachedDirectory(keys) : dir, keys, buildCacheMb << 20,
        System.out);
    if (buildOnly) {
      report("after build", null, null);
      return;
    }

    try (ObjectStore objects = StateFixture.open(directory, cacheMb << 20)) {
      long opened = System.nanoTime();
      StateStore state = new StateStore(objects, StateConfig.DEFAULT);
      state.collectGarbage();
      System.out.printf("opened at version %d in %.1f s%n", state.latestVersion(), (System.nanoTime() - opened) / 1e9);
      if (warm) {
        long walked = System.nanoTime();
        StateFixture.TreeStats tree = StateFixture.walk(objects, state);
        state.linkUpperLevels();
        System.out.printf("warmed the cache in %.1f s: %s%n", (System.nanoTime() - walked) / 1e9, tree);
      }
      if (fill) {
        long filling = System.nanoTime();
        // The state nodes' share of the bound, less a little: CLOCK evicts from a full cache.
        long target = (long) (cacheMb * (1L << 20) * 0.75 * 0.95);
        long loaded = StateFixture.fillLevels(objects, state, target);
        long linked = state.linkUpperLevels();
        System.out.printf("filled the cache level by level in %.1f s: %,d nodes loaded, %,d linked; cache %s%n",
            (System.nanoTime() - filling) / 1e9, loaded, linked, objects.cache().stats());
      }
      StateFixture.Workload workload = new StateFixture.Workload(objects, state, keys, System.nanoTime());
      CacheStats before = objects.cache().stats();
      List<Double> rates = new ArrayList<>();
      List<Double> processCpuRates = new ArrayList<>();
      List<Double> threadCpuRates = new ArrayList<>();
      long windowStart = System.nanoTime();
      long windowProcessCpu = processCpuNanos();
      long windowThreadCpu = THREADS.getCurrentThreadCpuTime();
      long started = windowStart;
      for (int b = 1; b <= batches; b++) {
        workload.commit(workload.randomBatch());
        if (b % window == 0 || b == batches) {
          long now = System.nanoTime();
          long processCpu = processCpuNanos();
          long threadCpu = THREADS.getCurrentThreadCpuTime();
          int n = b % window == 0 ? window : b % window;
          double updates = n * (double) StateFixture.BATCH;
          double rate = updates / ((now - windowStart) / 1e9);
          double perProcessCpu = updates / ((processCpu - windowProcessCpu) / 1e9);
          double perThreadCpu = updates / ((threadCpu - windowThreadCpu) / 1e9);
          rates.add(rate);
          processCpuRates.add(perProcessCpu);
          threadCpuRates.add(perThreadCpu);
          CacheStats s = objects.cache().stats();
          System.out.printf("  %,d batches, %.0f s: %,.0f updates/s; per CPU second %,.0f (process), %,.0f (this thread);"
              + " cache %d MiB %,d entries, heap %d MiB%n", b, (now - started) / 1e9, rate, perProcessCpu, perThreadCpu,
              s.weightBytes() >> 20, s.entries(), StateFixture.usedHeapBytes() >> 20);
          windowStart = now;
          windowProcessCpu = processCpu;
          windowThreadCpu = threadCpu;
        }
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      state.collectGarbage();
      CacheStats after = objects.cache().stats();
      long hits = after.hits() - before.hits();
      long misses = after.misses() - before.misses();
      List<Double> measured = rates.size() > 1 ? rates.subList(1, rates.size()) : rates;
      double[] sorted = measured.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      System.out.println();
      System.out.printf("keys %,d; cache bound %d MiB; versions %d to %d%n", keys, cacheMb, state.oldestRetainedVersion(),
          state.latestVersion());
      System.out.printf("updates/s: median %,.0f, min %,.0f, max %,.0f over %d windows of %d batches (first window left out);"
          + " overall %,.0f%n", median(sorted), sorted[0], sorted[sorted.length - 1], sorted.length, window,
          workload.updates / seconds);
      System.out.printf("first window (right after opening, the cold start): %,.0f updates/s, %,.0f per process CPU second,"
          + " %,.0f per committing-thread CPU second%n", rates.getFirst(), processCpuRates.getFirst(), threadCpuRates.getFirst());
      System.out.printf("updates per CPU second: median %,.0f counting the whole process (collector, RocksDB's"
          + " background threads, JVM), median %,.0f counting the committing thread alone%n",
          median(sortedAfterFirst(processCpuRates)), median(sortedAfterFirst(threadCpuRates)));
      System.out.printf("committing thread's CPU per update: %.1f us staging (trie update, encoding, transaction),"
          + " %.1f us writing (RocksDB), %.1f us collecting garbage%n", workload.stageCpuNanos / 1e3 / workload.updates,
          workload.writeCpuNanos / 1e3 / workload.updates, workload.collectCpuNanos / 1e3 / workload.updates);
      System.out.printf("write set: %.0f bytes/update; collector: %.2f nodes deleted/update%n",
          (double) workload.writeBytes / workload.updates, (double) workload.collectedNodes / workload.updates);
      System.out.printf("cache: weight %d MiB, %,d entries, hit ratio %.2f%% over the run (%,d hits, %,d misses), %,d evictions%n",
          after.weightBytes() >> 20, after.entries(), 100.0 * hits / Math.max(1, hits + misses), hits, misses,
          after.evictions() - before.evictions());
      if (proofs > 0) {
        proofTimes(state, keys, proofs);
      }
      report("after the run", objects, directory);
    }
  }

  /**
   * Proves {@code count} uniformly random present accounts in the latest version through the
   * store (snapshot, root lookup, the walk through the bounded cache) and verifies each proof,
   * timing every call; prints medians and the 99th percentile. Proofs come after the update
   * run, so the cache holds what the workload left in it.
   */
  private static void proofTimes(StateStore state, long keys, int count) {
    java.util.SplittableRandom random = new java.util.SplittableRandom(0x9200F);
    long version = state.latestVersion();
    dev.bulwark.core.Digest root = state.latestRoot();
    long[] prove = new long[count];
    long[] verify = new long[count];
    long nodes = 0;
    long bytes = 0;
    for (int i = 0; i < count; i++) {
      dev.bulwark.core.Bytes key = StateFixture.key(random.nextLong(keys));
      long t0 = System.nanoTime();
      dev.bulwark.core.state.StateProof proof = state.prove(version, key);
      long t1 = System.nanoTime();
      StateProof.Outcome outcome = proof.evaluate(root, key);
      long t2 = System.nanoTime();
      if (!(outcome instanceof StateProof.Outcome.Present)) {
        throw new IllegalStateException("the proof of a present account shows " + outcome);
      }
      prove[i] = t1 - t0;
      verify[i] = t2 - t1;
      nodes += proof.nodes().size();
      bytes += proof.byteSize();
    }
    java.util.Arrays.sort(prove);
    java.util.Arrays.sort(verify);
    System.out.printf("proofs (%d random present accounts, version %d): prove median %.1f us (p99 %.1f), verify median %.1f us"
            + " (p99 %.1f); %.2f nodes, %.0f bytes per proof%n", count, version, prove[count / 2] / 1e3,
        prove[count * 99 / 100] / 1e3, verify[count / 2] / 1e3, verify[count * 99 / 100] / 1e3, (double) nodes / count,
        (double) bytes / count);
  }

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** CPU time of the whole process: on a shared machine, a figure other processes barely move. */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static double[] sortedAfterFirst(List<Double> windows) {
    List<Double> measured = windows.size() > 1 ? windows.subList(1, windows.size()) : windows;
    return measured.stream().mapToDouble(Double::doubleValue).sorted().toArray();
  }

  private static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** Memory (heap after a full collection, resident) and disk, with the store still open. */
  private static void report(String when, ObjectStore objects, Path directory) {
    System.gc();
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    MemoryUsage nonHeap = ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage();
    System.out.printf("memory %s: heap used after GC %d MiB (committed %d MiB, max %d MiB), non-heap %d MiB, %s, %s%n", when,
        heap.getUsed() >> 20, heap.getCommitted() >> 20, heap.getMax() >> 20, nonHeap.getUsed() >> 20,
        procStatus("VmRSS"), procStatus("VmHWM"));
    if (directory != null) {
      System.out.printf("disk: %d MiB in %s%n", StateFixture.directorySize(directory) >> 20, directory);
    }
    if (objects != null) {
      System.out.println("cache " + objects.cache().stats());
      java.util.Map<String, Long> rocks = objects.store().statistics();
      System.out.printf("rocksdb: block cache %d MiB (pinned %d MiB), memtables %d MiB, table readers (indexes, filters) %d MiB%n",
          rocks.getOrDefault("block-cache-usage", -1L) >> 20, rocks.getOrDefault("block-cache-pinned-usage", -1L) >> 20,
          rocks.getOrDefault("cur-size-all-mem-tables", -1L) >> 20, rocks.getOrDefault("estimate-table-readers-mem", -1L) >> 20);
    }
  }

  /** A line of {@code /proc/self/status}, such as {@code VmRSS: 123456 kB}, in MiB. */
  private static String procStatus(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field + ":")) {
          String[] parts = line.substring(field.length() + 1).trim().split("\\s+");
          return field + " " + (Long.parseLong(parts[0]) >> 10) + " MiB";
        }
      }
      return field + " unknown";
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read /proc/self/status", e);
    } catch (NumberFormatException e) {
      return field + " unreadable";
    }
  }
}
