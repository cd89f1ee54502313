package dev.bulwark.cli.bench;

import dev.bulwark.cli.ProcStat;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * CPU time used so far by the processes a bench run loads: this one (the load generator) and a
 * local cluster's replicas, by name. On a machine shared with other work the wall-clock rate
 * moves with the neighbours' load; CPU time per confirmed transfer, per process, much less, and
 * it shows where the time goes (the leader, the followers, the client).
 *
 * <p>Other processes' time comes from {@code /proc/PID/stat} (user plus system time, every
 * thread, counted in clock ticks of 10 ms: Linux' USER_HZ is 100); elsewhere, or once a process
 * is gone, it is left out.
 *
 * <p><b>JIT compilers apart.</b> A fresh JVM spends a large and shrinking share of its CPU on
 * the C1/C2 compiler threads for minutes, which hides what the work itself costs. Each sample
 * also reads every thread's time from {@code /proc/PID/task/TID/stat} and adds the compiler
 * threads' progress since the previous sample to a running "NAME jit" counter, thread by thread
 * (a compiler thread that exits between two samples loses what it did after the first);
 * {@link #used} then reports each process without it and all compiler time as "jit".
 */
public final class ProcessCpu {
  /** The name this process goes by in a sample. */
  public static final String SELF = "bench";
  /** Suffix of a process's compiler-thread counter in a sample; the name of their total in {@link #used}. */
  public static final String JIT = "jit";
  private static final long NANOS_PER_TICK = 10_000_000L;

  private final Map<String, Long> pids;
  /** Per process: each compiler thread's time at the previous sample, by thread id. */
  private final Map<String, Map<Long, Long>> jitThreads = new LinkedHashMap<>();
  /** Per process: compiler-thread time accumulated over the samples so far. */
  private final Map<String, Long> jitSoFar = new LinkedHashMap<>();

  /** Samples this process and {@code others} (name -> pid). */
  public ProcessCpu(Map<String, Long> others) {
    this.pids = new LinkedHashMap<>(others);
  }

  /**
   * Name -> CPU nanoseconds used so far, for this process and every other one that could be
   * read; and "NAME jit" -> the part of it its JIT compiler threads used since the first sample.
   */
  public synchronized Map<String, Long> sample() {
    Map<String, Long> out = new LinkedHashMap<>();
    pids.forEach((name, pid) -> cpuNanos(pid).ifPresent(n -> {
      out.put(name, n);
      out.put(name + " " + JIT, jitProgress(name, pid));
    }));
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      out.put(SELF, os.getProcessCpuTime());
      out.put(SELF + " " + JIT, jitProgress(SELF, ProcessHandle.current().pid()));
    }
    return out;
  }

  /** Adds the compiler threads' time since the last sample to {@code name}'s counter; returns the counter. */
  private long jitProgress(String name, long pid) {
    Map<Long, Long> now = compilerThreads(pid);
    Map<Long, Long> before = jitThreads.put(name, now);
    long progress = 0;
    if (before != null) {
      for (Map.Entry<Long, Long> t : now.entrySet()) {
        progress += Math.max(0, t.getValue() - before.getOrDefault(t.getKey(), 0L));
      }
    }
    return jitSoFar.merge(name, progress, Long::sum);
  }

  /** Thread id -> CPU nanoseconds of each JIT compiler thread ("C1 CompilerThre", "C2 CompilerThre") of {@code pid}. */
  private static Map<Long, Long> compilerThreads(long pid) {
    Map<Long, Long> out = new LinkedHashMap<>();
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    try (var threads = Files.list(tasks)) {
      threads.forEach(task -> {
        try {
          String stat = Files.readString(task.resolve("stat"));
          if (isCompilerThread(stat)) {
            parseStat(stat).ifPresent(n -> out.put(Long.parseLong(task.getFileName().toString()), n));
          }
        } catch (IOException | RuntimeException e) {
          // the thread ended while listed
        }
      });
    } catch (IOException | RuntimeException e) {
      // not Linux, or the process is gone: no compiler time known
    }
    return out;
  }

  /** Whether a {@code /proc/.../task/TID/stat} line is a HotSpot JIT compiler thread's (names are cut at 15 characters). */
  static boolean isCompilerThread(String stat) {
    int open = stat.indexOf('(');
    int close = stat.lastIndexOf(')');
    if (open < 0 || close < open) {
      return false;
    }
    String comm = stat.substring(open + 1, close);
    return comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre");
  }

  /** CPU nanoseconds a process used so far, from {@code /proc/PID/stat}; empty if it cannot be read. */
  static OptionalLong cpuNanos(long pid) {
    try {
      return parseStat(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  /**
   * utime + stime (fields 14 and 15) from a {@code /proc/PID/stat} line, in nanoseconds.
   */
  static OptionalLong parseStat(String stat) {
    // f[0] is field 3 (state): utime is field 14, f[11]; stime field 15, f[12].
    return ProcStat.fieldsAfterName(stat, 13)
        .map(f -> OptionalLong.of((Long.parseLong(f[11]) + Long.parseLong(f[12])) * NANOS_PER_TICK))
        .orElse(OptionalLong.empty());
  }

  /**
   * CPU nanoseconds each process used between two samples (processes in both only), without
   * its JIT compiler threads when the samples know them; their time, of all processes, is
   * under {@link #JIT}.
   */
  public static Map<String, Long> used(Map<String, Long> before, Map<String, Long> after) {
    Map<String, Long> out = new LinkedHashMap<>();
    long jit = 0;
    boolean jitKnown = false;
    for (Map.Entry<String, Long> e : after.entrySet()) {
      String name = e.getKey();
      Long was = before.get(name);
      if (name.endsWith(" " + JIT) || was == null) {
        continue;
      }
      long used = Math.max(0, e.getValue() - was);
      Long jitBefore = before.get(name + " " + JIT);
      Long jitAfter = after.get(name + " " + JIT);
      if (jitBefore != null && jitAfter != null) {
        long compiling = Math.clamp(jitAfter - jitBefore, 0, used);
        used -= compiling;
        jit += compiling;
        jitKnown = true;
      }
      out.put(name, used);
    }
    if (jitKnown) {
      out.put(JIT, jit);
    }
    return out;
  }
}
