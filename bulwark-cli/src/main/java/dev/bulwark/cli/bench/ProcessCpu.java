package dev.bulwark.cli.bench;

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
 */
public final class ProcessCpu {
  /** The name this process goes by in a sample. */
  public static final String SELF = "bench";
  private static final long NANOS_PER_TICK = 10_000_000L;

  private final Map<String, Long> pids;

  /** Samples this process and {@code others} (name -> pid). */
  public ProcessCpu(Map<String, Long> others) {
    this.pids = new LinkedHashMap<>(others);
  }

  /** Name -> CPU nanoseconds used so far, for this process and every other one that could be read. */
  public Map<String, Long> sample() {
    Map<String, Long> out = new LinkedHashMap<>();
    pids.forEach((name, pid) -> cpuNanos(pid).ifPresent(n -> out.put(name, n)));
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      out.put(SELF, os.getProcessCpuTime());
    }
    return out;
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
   * utime + stime from a {@code /proc/PID/stat} line, in nanoseconds. The command name (field 2)
   * is in parentheses and may hold spaces or parentheses itself, so fields are counted after the
   * last ')': utime and stime are fields 14 and 15 of the line.
   */
  static OptionalLong parseStat(String stat) {
    int close = stat.lastIndexOf(')');
    if (close < 0) {
      return OptionalLong.empty();
    }
    String[] f = stat.substring(close + 1).trim().split("\\s+");
    if (f.length < 13) {
      return OptionalLong.empty();
    }
    // f[0] is field 3 (state): utime is field 14, f[11]; stime field 15, f[12].
    return OptionalLong.of((Long.parseLong(f[11]) + Long.parseLong(f[12])) * NANOS_PER_TICK);
  }

  /** CPU nanoseconds each process used between two samples (processes in both only). */
  public static Map<String, Long> used(Map<String, Long> before, Map<String, Long> after) {
    Map<String, Long> out = new LinkedHashMap<>();
    after.forEach((name, nanos) -> {
      Long was = before.get(name);
      if (was != null) {
        out.put(name, Math.max(0, nanos - was));
      }
    });
    return out;
  }
}
