package dev.bulwark.cli.chaos;

import dev.bulwark.cli.ProcStat;
import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Gives a restarted replica a higher CPU priority (a lower nice value) than its peers until it
 * has caught up, then the same.
 *
 * <p>Why: on a machine whose cores the surviving replicas and the workload keep busy, a restart
 * spends most of its time waiting for a core. A long brisk run measured a restart at 13.6 s from
 * start to caught up (p50), where the same replica restarts in 2.3 s on a quiet machine, and
 * half of a brisk schedule's faults are kills that wait for that restart. A replica on a machine
 * of its own would not compete with its peers at all; the boost comes closer to that. It ends
 * before the next fault starts (the schedule waits for the catch-up), so no failover runs beside
 * a boosted replica.
 *
 * <p>Linux keeps a nice value per thread, and a new thread takes its creator's. So the launch
 * runs under {@code nice} (every thread of the JVM starts boosted, and nice execs the command,
 * so the pid stays the replica's), and {@link #restore} sets every thread back to the nice value
 * its peers were started with (chaos's own: {@code nice bulwark chaos} starts them all niced),
 * pass after pass until no thread is left boosted, since a boosted thread may start another
 * while a pass runs.
 *
 * @param boost how far below chaos's own nice value a restarted replica runs, as {@code nice -n}
 *     takes it: {@value #STRONGEST} to 0 (0: no boost)
 */
public record RestartPriority(int boost) {
  static final int STRONGEST = -20;

  /** No boost: a replica restarted outside the schedule (healing, an exit of its own, an existing cluster's). */
  static final RestartPriority NONE = new RestartPriority(0);

  /** Passes of {@link #restore} before it gives up on threads that keep appearing boosted. */
  static final int RESTORE_PASSES = 8;

  public RestartPriority {
    if (boost < STRONGEST || boost > 0) {
      throw new IllegalArgumentException("the restart nice value is " + STRONGEST + " to 0, not " + boost);
    }
  }

  /** Whether restarts are boosted at all. */
  boolean boosts() {
    return boost != 0;
  }

  /**
   * Whether this process may give another a higher priority than its own: it has CAP_SYS_NICE
   * (root outside a container usually has; root in a container may not, and nice(1) then only
   * warns).
   */
  static boolean mayRaise() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("CapEff:")) {
          long capabilities = Long.parseUnsignedLong(line.substring("CapEff:".length()).strip(), 16);
          return (capabilities & (1L << CAP_SYS_NICE)) != 0;
        }
      }
      return false;
    } catch (IOException | NumberFormatException e) {
      return false;
    }
  }

  private static final int CAP_SYS_NICE = 23;

  /** {@code argv} run at the boosted priority ({@code nice} execs it, so the pid stays the replica's). */
  List<String> launch(List<String> argv) {
    if (!boosts()) {
      return argv;
    }
    List<String> command = new ArrayList<>(List.of("nice", "-n", Integer.toString(boost)));
    command.addAll(argv);
    return command;
  }

  /**
   * Puts every thread of {@code process} back at the nice value of the calling thread, the one
   * its peers inherited. Returns how many threads it could not restore (0 unless threads kept
   * appearing boosted for {@value #RESTORE_PASSES} passes, or setpriority refused); a process
   * that has exited has none.
   */
  int restore(ProcessHandle process) throws IOException {
    if (!boosts()) {
      return 0;
    }
    int normal = niceOfThisThread();
    Map<Long, Integer> boosted = niceValuesOtherThan(process.pid(), normal);
    for (int pass = 0; pass < RESTORE_PASSES && !boosted.isEmpty(); pass++) {
      for (long tid : boosted.keySet()) {
        Native.setThreadNice(tid, normal); // a thread that ended meanwhile fails, and is gone from the next look
      }
      boosted = niceValuesOtherThan(process.pid(), normal);
    }
    return boosted.size();
  }

  /** The nice value of every thread of {@code pid}, by thread id; empty once it has exited. */
  public static Map<Long, Integer> niceValues(long pid) throws IOException {
    Map<Long, Integer> values = new TreeMap<>();
    for (long tid : threads(pid)) {
      niceOf(Path.of("/proc", Long.toString(pid), "task", Long.toString(tid), "stat"))
          .ifPresent(v -> values.put(tid, v));
    }
    return values;
  }

  /** The threads of {@code pid} whose nice value is not {@code normal}. */
  public static Map<Long, Integer> niceValuesOtherThan(long pid, int normal) throws IOException {
    Map<Long, Integer> values = niceValues(pid);
    values.values().removeIf(v -> v == normal);
    return values;
  }

  /** The calling thread's nice value (what a process it starts inherits). */
  public static int niceOfThisThread() throws IOException {
    return niceOf(Path.of("/proc/thread-self/stat"))
        .orElseThrow(() -> new IOException("cannot read this thread's nice value from /proc/thread-self/stat"));
  }

  private static List<Long> threads(long pid) throws IOException {
    try (Stream<Path> entries = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      return entries.map(p -> Long.parseLong(p.getFileName().toString())).sorted().toList();
    } catch (NoSuchFileException e) {
      return List.of();
    }
  }

  /** The nice value's field in a /proc stat line. */
  private static final int NICE_FIELD = 19;

  /** The nice value in a /proc stat line (empty if the thread has ended). */
  private static Optional<Integer> niceOf(Path stat) throws IOException {
    String line;
    try {
      line = Files.readString(stat);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    return ProcStat.fieldsAfterName(line, NICE_FIELD - ProcStat.FIRST_FIELD + 1)
        .map(fields -> Integer.parseInt(fields[NICE_FIELD - ProcStat.FIRST_FIELD]));
  }

  /** setpriority(2) on one thread, through the FFM API; loaded on first use, so only where chaos boosts. */
  @SuppressWarnings("restricted") // a downcall; the launchers pass --enable-native-access
  private static final class Native {
    private static final int PRIO_PROCESS = 0;

    private static final MethodHandle SETPRIORITY = Linker.nativeLinker().downcallHandle(
        Linker.nativeLinker().defaultLookup().find("setpriority")
            .orElseThrow(() -> new UnsupportedOperationException("no setpriority in this C library")),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    /** Whether the thread now runs at {@code nice}: false if it has ended or the call was refused. */
    static boolean setThreadNice(long tid, int nice) {
      try {
        return (int) SETPRIORITY.invokeExact(PRIO_PROCESS, (int) tid, nice) == 0;
      } catch (Throwable e) {
        throw new IllegalStateException("setpriority failed to run", e);
      }
    }
  }
}
