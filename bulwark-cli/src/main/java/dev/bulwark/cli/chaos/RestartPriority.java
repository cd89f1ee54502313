package dev.bulwark.cli.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Gives a restarted replica a higher CPU priority (a lower nice value) until it has caught up,
 * then the same as its peers.
 *
 * <p>Why: on a machine whose cores the surviving replicas and the workload keep busy, a restart
 * spends most of its time waiting for a core. A long brisk run measured a restart at 13.6 s from
 * start to caught up (p50), where the same replica restarts in 2.3 s on a quiet machine, and
 * half of a brisk schedule's faults are kills that wait for that restart. A replica on a machine
 * of its own would not compete with its peers at all; the boost comes closer to that. It ends
 * before the next fault starts (the schedule waits for the catch-up), so no failover runs beside
 * a boosted replica.
 *
 * <p>Linux keeps a nice value per thread, and a new thread takes its creator's, so the launch
 * runs under {@code nice} (every thread of the JVM starts boosted) and the end renices every
 * thread the process has by then; a thread started during that pass is caught by a second one.
 */
final class RestartPriority {
  /** Nice values, as nice(1) takes them. */
  static final int HIGHEST = -20;

  static final int NORMAL = 0;

  private static final long COMMAND_TIMEOUT_SECONDS = 10;

  private final int nice;

  /** {@code nice}: the restarted replica's nice value until it has caught up, -20 to 0 (0: no boost). */
  RestartPriority(int nice) {
    if (nice < HIGHEST || nice > NORMAL) {
      throw new IllegalArgumentException("the restart nice value is " + HIGHEST + " to " + NORMAL + ", not " + nice);
    }
    this.nice = nice;
  }

  /** Whether this process may give another a higher priority than normal (root; nice(1) just warns otherwise). */
  static boolean mayRaise() {
    try {
      return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** Whether restarts are boosted at all. */
  boolean boosts() {
    return nice != NORMAL;
  }

  /** {@code argv} run at the boosted nice value ({@code nice} execs it, so the pid stays the replica's). */
  List<String> launch(List<String> argv) {
    if (!boosts()) {
      return argv;
    }
    List<String> command = new ArrayList<>(List.of("nice", "-n", Integer.toString(nice)));
    command.addAll(argv);
    return command;
  }

  /**
   * Puts every thread of {@code process} back at the normal nice value. Two passes, for threads a
   * boosted thread started while the first ran; a thread that ends meanwhile is no error.
   */
  void restore(ProcessHandle process) throws IOException, InterruptedException {
    if (!boosts()) {
      return;
    }
    for (int pass = 0; pass < 2; pass++) {
      List<String> threads = threads(process.pid());
      if (threads.isEmpty()) {
        return; // it has exited
      }
      List<String> command = new ArrayList<>(List.of("renice", "-n", Integer.toString(NORMAL), "-p"));
      command.addAll(threads);
      Process renice = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!renice.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        renice.destroyForcibly();
        throw new IOException("renice of process " + process.pid() + " gave no answer within "
            + COMMAND_TIMEOUT_SECONDS + " s");
      }
      // A non-zero exit is a thread that ended between the listing and renice: the others are done.
    }
  }

  /** The nice value of each thread of {@code pid} that is not {@link #NORMAL} (for checks), by thread id. */
  static java.util.Map<String, Integer> unusualNiceValues(long pid) throws IOException {
    java.util.Map<String, Integer> unusual = new java.util.TreeMap<>();
    for (String tid : threads(pid)) {
      Optional<Integer> value = niceOf(Path.of("/proc", Long.toString(pid), "task", tid, "stat"));
      value.filter(v -> v != NORMAL).ifPresent(v -> unusual.put(tid, v));
    }
    return unusual;
  }

  private static List<String> threads(long pid) throws IOException {
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    try (Stream<Path> entries = Files.list(tasks)) {
      return entries.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (java.nio.file.NoSuchFileException e) {
      return List.of();
    }
  }

  /** The nice value in a /proc stat line: field 19, counted after the command name in parentheses. */
  private static Optional<Integer> niceOf(Path stat) throws IOException {
    String line;
    try {
      line = Files.readString(stat);
    } catch (java.nio.file.NoSuchFileException e) {
      return Optional.empty();
    }
    String[] fields = line.substring(line.lastIndexOf(')') + 2).trim().split(" ");
    return Optional.of(Integer.parseInt(fields[16])); // fields from 3 (state): 19 is index 16
  }
}
