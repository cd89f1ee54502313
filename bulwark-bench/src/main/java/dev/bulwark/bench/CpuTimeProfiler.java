package dev.bulwark.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * CPU time per operation, beside JMH's wall-clock score, for machines shared with other work
 * (on a busy 2-core host the wall clock of a single-threaded benchmark stretches with every
 * other runnable thread; the CPU time it consumed much less). Per iteration:
 *
 * <ul>
 *   <li>{@code cpu.worker}: CPU time of the JMH worker threads (those named
 *       {@code *-jmh-worker-*}) divided by the operations of the iteration: the benchmark
 *       code's own CPU. It includes what runs in the worker between iterations' edges, so
 *       {@code Level.Invocation} set-up is counted here although the score excludes it;
 *   <li>{@code cpu.process}: the whole JVM's CPU time per operation: the worker plus garbage
 *       collection, the JIT compilers and any native background threads (RocksDB's flushes
 *       and compactions).
 * </ul>
 *
 * <p>In the benchmark's output time unit. Use: {@code -prof dev.bulwark.bench.CpuTimeProfiler}.
 * Cache and memory-bandwidth contention still show, so this is a floor-ish estimate on a busy
 * machine, not a replacement for a quiet one.
 */
public final class CpuTimeProfiler implements InternalProfiler {
  private static final String WORKER = "-jmh-worker-";

  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private final com.sun.management.OperatingSystemMXBean os =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private Map<Long, Long> workerCpuBefore = Map.of();
  private long processCpuBefore;

  public CpuTimeProfiler() {
    if (!threads.isThreadCpuTimeSupported()) {
      throw new IllegalStateException("this JVM cannot measure thread CPU time");
    }
    if (!threads.isThreadCpuTimeEnabled()) {
      threads.setThreadCpuTimeEnabled(true);
    }
  }

  @Override
  public String getDescription() {
    return "CPU time per operation: the JMH worker threads, and the whole process";
  }

  @Override
  public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
    workerCpuBefore = workerCpu();
    processCpuBefore = os.getProcessCpuTime();
  }

  @Override
  public List<? extends Result<?>> afterIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams,
      IterationResult result) {
    long processNanos = os.getProcessCpuTime() - processCpuBefore;
    long workerNanos = 0;
    for (Map.Entry<Long, Long> e : workerCpu().entrySet()) {
      workerNanos += e.getValue() - workerCpuBefore.getOrDefault(e.getKey(), 0L);
    }
    long ops = result.getMetadata().getAllOps();
    if (ops <= 0) {
      return List.of();
    }
    TimeUnit unit = benchmarkParams.getTimeUnit();
    double nanosPerUnit = unit.toNanos(1);
    String label = unit == TimeUnit.MICROSECONDS ? "us/op" : unit == TimeUnit.NANOSECONDS ? "ns/op"
        : unit == TimeUnit.MILLISECONDS ? "ms/op" : unit.name().toLowerCase(Locale.ROOT) + "/op";
    return List.of(
        new ScalarResult("cpu.worker", workerNanos / nanosPerUnit / ops, label, AggregationPolicy.AVG),
        new ScalarResult("cpu.process", processNanos / nanosPerUnit / ops, label, AggregationPolicy.AVG));
  }

  /** CPU nanoseconds so far of every live JMH worker thread, by thread id. */
  private Map<Long, Long> workerCpu() {
    Map<Long, Long> out = new HashMap<>();
    for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (info != null && info.getThreadName().contains(WORKER)) {
        long cpu = threads.getThreadCpuTime(info.getThreadId());
        if (cpu >= 0) {
          out.put(info.getThreadId(), cpu);
        }
      }
    }
    return out;
  }
}
