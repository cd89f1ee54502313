package dev.bulwark.server.sim;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs the pipeline simulator ({@code ./dev simulate}). {@code --seed S} replays one seed and
 * prints its whole trace and digest; otherwise {@code --seeds N} seeds from {@code --from F}
 * (default: a random start, printed) on {@code --workers W} threads (default: one per core),
 * each seed on one thread, reporting every failing seed in seed order and the seeds per minute
 * and per CPU second. {@code --store rocksdb} runs the seeds on RocksDB instead of in memory.
 * Exits 1 if any seed found a violation.
 */
public final class SimulatorMain {
  private SimulatorMain() {}

  public static void main(String[] args) throws Exception {
    long seeds = 1000;
    Long one = null;
    long from = System.nanoTime() & 0xffff_ffffL;
    int workers = Runtime.getRuntime().availableProcessors();
    SimStores.Kind kind = SimStores.Kind.MEMORY;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--seeds" -> seeds = Long.parseLong(args[++i]);
          case "--seed" -> one = Long.parseLong(args[++i]);
          case "--from" -> from = Long.parseLong(args[++i]);
          case "--workers" -> workers = Integer.parseInt(args[++i]);
          case "--store" -> kind = SimStores.Kind.parse(args[++i]);
          default -> throw new IllegalArgumentException(args[i]);
        }
      }
    } catch (RuntimeException e) {
      System.err.println("usage: SimulatorMain [--seeds N] [--from F] [--workers W] [--store memory|rocksdb]"
          + " | [--seed S] [--store memory|rocksdb]");
      System.exit(2);
    }
    // Only RocksDB stores need a directory; deleted here, as System.exit skips finally blocks.
    Path dir = kind == SimStores.Kind.ROCKSDB ? SimulatorRunner.scratchDirectory() : Path.of("in-memory");
    int status;
    try {
      status = one != null ? replay(one, kind, dir) : runSeeds(from, seeds, workers, kind, dir);
    } finally {
      if (kind == SimStores.Kind.ROCKSDB) {
        Simulation.deleteTree(dir);
      }
    }
    System.exit(status);
  }

  /** Replays one seed with its whole trace; 0 if it held every invariant, else 1. */
  private static int replay(long seed, SimStores.Kind kind, Path dir) {
    try (SimStores stores = kind.open(dir)) {
      Simulation.Result r = SimulatorRunner.run(seed, stores, true);
      r.traceTail().forEach(line -> System.out.println("  " + line));
      System.out.print(r.report().replaceAll("(?s)  last events:.*?(  replay)", "$1"));
      System.out.println("trace digest " + Long.toHexString(r.traceDigest()));
      return r.ok() ? 0 : 1;
    }
  }

  /** Runs seeds {@code from} on, each on one of the workers; reports the failures in seed order. */
  private static int runSeeds(long from, long seeds, int workers, SimStores.Kind kind, Path dir)
      throws InterruptedException {
    System.out.println("seeds " + from + " to " + (from + seeds - 1) + " on " + workers + " workers, stores "
        + kind.flag());
    ConcurrentSkipListMap<Long, String> failures = new ConcurrentSkipListMap<>();
    AtomicLong next = new AtomicLong(from);
    long end = from + seeds;
    long start = System.nanoTime();
    long cpuStartNs = processCpuNs();
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      Path workerDir = dir.resolve("worker-" + w);
      threads.add(Thread.ofPlatform().name("sim-" + w).start(() -> {
        try (SimStores stores = kind.open(workerDir)) {
          for (long s = next.getAndIncrement(); s < end; s = next.getAndIncrement()) {
            try {
              Simulation.Result r = SimulatorRunner.run(s, stores, false);
              if (!r.ok()) {
                failures.put(s, r.report());
              }
            } catch (RuntimeException | Error e) { // the stores failed, outside what a run checks
              failures.put(s, "seed " + s + ": the simulator failed: " + e + "\n  replay: ./dev simulate --seed " + s
                  + (kind == SimStores.Kind.MEMORY ? "" : " --store " + kind.flag()) + "\n");
            }
          }
        }
      }));
    }
    for (Thread t : threads) {
      t.join();
    }
    double minutes = (System.nanoTime() - start) / 60e9;
    double cpuSeconds = (processCpuNs() - cpuStartNs) / 1e9;
    failures.values().forEach(System.out::print);
    System.out.printf("%d seeds, %d failed, %.0f seeds/minute, %.1f seeds per CPU second (%.1f CPU s)%n", seeds,
        failures.size(), seeds / minutes, seeds / cpuSeconds, cpuSeconds);
    return failures.isEmpty() ? 0 : 1;
  }

  /** The CPU time of the whole process (the compiler's and the collector's threads too). */
  private static long processCpuNs() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }
}
