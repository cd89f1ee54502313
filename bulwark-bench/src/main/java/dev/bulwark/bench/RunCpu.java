package dev.bulwark.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time of a benchmark's timed phase, per request and per kind of thread (names with their
 * numbers dropped: "bulwark-validate-0" and "-1" count together), plus the whole process. On a
 * 2-core machine shared with other builds, wall-clock rates swing with the neighbours' load;
 * CPU microseconds per request, and the busiest single thread's share, do much less. The
 * sequencer thread's figure bounds the pipeline's rate (1 s / its µs per request), the process
 * figure bounds it on two cores (2 s / process µs per request).
 */
final class RunCpu {
  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private final com.sun.management.OperatingSystemMXBean os =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private final Map<Long, Long> before = new HashMap<>();
  private final Map<Long, String> names = new HashMap<>();
  private long processBefore;
  private long wallBefore;
  private long gcMsBefore;
  private long gcCountBefore;

  RunCpu() {
    if (!threads.isThreadCpuTimeEnabled()) {
      threads.setThreadCpuTimeEnabled(true);
    }
  }

  void start() {
    before.clear();
    for (ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (t != null) {
        before.put(t.getThreadId(), Math.max(0, threads.getThreadCpuTime(t.getThreadId())));
        names.put(t.getThreadId(), t.getThreadName());
      }
    }
    processBefore = os.getProcessCpuTime();
    wallBefore = System.nanoTime();
    gcMsBefore = gcMs();
    gcCountBefore = gcCount();
  }

  private static long gcMs() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(b -> Math.max(0, b.getCollectionTime())).sum();
  }

  private static long gcCount() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(b -> Math.max(0, b.getCollectionCount())).sum();
  }

  /** Prints µs of CPU per request for each kind of thread with at least 1 µs, busiest first. */
  void report(long requests) {
    long wall = System.nanoTime() - wallBefore;
    long process = os.getProcessCpuTime() - processBefore;
    Map<String, Long> byKind = new TreeMap<>();
    long javaThreads = 0;
    for (ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (t == null) {
        continue;
      }
      long now = threads.getThreadCpuTime(t.getThreadId());
      if (now < 0) {
        continue;
      }
      long used = now - before.getOrDefault(t.getThreadId(), 0L);
      javaThreads += used;
      byKind.merge(kind(t.getThreadName()), used, Long::sum);
    }
    System.out.printf("cpu per request (timed phase, %,d requests, %.1f s wall): process %.1f µs (%.2f cores busy)%n",
        requests, wall / 1e9, process / 1e3 / requests, (double) process / wall);
    byKind.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .filter(e -> e.getValue() / 1e3 / requests >= 1)
        .forEach(e -> System.out.printf("  %-34s %7.1f µs  (%.2f cores)%n", e.getKey(), e.getValue() / 1e3 / requests,
            (double) e.getValue() / wall));
    System.out.printf("  %-34s %7.1f µs  (GC, JIT, RocksDB background, threads that ended)%n", "other",
        (process - javaThreads) / 1e3 / requests);
    System.out.printf("  garbage collections: %d, %d ms in all (wall time of the collectors' pauses and cycles)%n",
        gcCount() - gcCountBefore, gcMs() - gcMsBefore);
  }

  private static String kind(String name) {
    return name.replaceAll("[0-9]+", "#");
  }
}
