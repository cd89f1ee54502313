package dev.bulwark.store;

import static dev.bulwark.store.StoreTesting.scanAll;
import static dev.bulwark.store.StoreTesting.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.bulwark.core.kv.Entry;
import dev.bulwark.core.kv.KeyRange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Kills a child JVM with SIGKILL while it commits synced batches ({@link CrashWriterMain}),
 * then reopens its store: every batch the child reported is there whole, no batch is there in
 * part, and nothing is there beyond the one batch that may have been written but not yet
 * reported. Two rounds, so the second crash hits a database that already recovered once.
 */
class CrashRecoveryTest {
  private static final int KEYS_PER_BATCH = 32;
  private static final int COMMITS_BEFORE_KILL = 40;
  private static final int ROUNDS = 2;
  private static final long CHILD_BATCHES_MAX = 1_000_000;
  private static final long CHILD_WAIT_NS = TimeUnit.SECONDS.toNanos(60);
  private static final long EXIT_WAIT_S = 30;
  /** Linux reports a process killed by signal 9 as exit status 128 + 9. */
  private static final int SIGKILL_EXIT_STATUS = 128 + 9;
  private static final long POLL_MS = 10;

  @TempDir Path tmp;

  /** What one child run printed before it died. */
  private record ChildRun(long first, List<Long> committed, List<String> lines) {
    long lastReported() {
      return committed.isEmpty() ? first - 1 : committed.getLast();
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void killedWriterLeavesOnlyWholeBatches(Backend backend) throws IOException, InterruptedException {
    Path directory = tmp.resolve("db");
    long next = 0;
    for (int round = 0; round < ROUNDS; round++) {
      ChildRun run = runAndKill(backend, directory, round);
      String context = backend + " round " + round + ", child printed " + run.lines().size() + " lines, last "
          + (run.lines().isEmpty() ? "none" : run.lines().getLast());
      assertThat(run.first()).as(context + ": the child resumes after the last batch in the store").isEqualTo(next);
      assertThat(run.committed()).as(context + ": commits are reported in order")
          .isEqualTo(LongStream.range(run.first(), run.first() + run.committed().size()).boxed().toList());
      next = checkRecovered(backend, directory, run, context);
    }
  }

  private ChildRun runAndKill(Backend backend, Path directory, int round) throws IOException, InterruptedException {
    Path stderr = tmp.resolve("child-" + round + ".stderr");
    List<String> command = StoreTesting.childJvm(tmp, CrashWriterMain.class,
        backend.name(), directory.toString(), Integer.toString(KEYS_PER_BATCH), Long.toString(CHILD_BATCHES_MAX));
    // stdout goes to a file, not a pipe: a pipe read races with the JDK draining it when the
    // process dies, and a line lost there would understate what the child reported.
    Path stdout = tmp.resolve("child-" + round + ".stdout");
    Process child = new ProcessBuilder(command)
        .redirectOutput(stdout.toFile())
        .redirectError(stderr.toFile())
        .start();
    try {
      long deadline = System.nanoTime() + CHILD_WAIT_NS;
      for (int commits = 0; commits < COMMITS_BEFORE_KILL; commits = countCommits(completeLines(stdout))) {
        if (!child.isAlive()) {
          fail("%s round %d: the child ended (status %d) before it was killed; stdout %s; stderr %s", backend, round,
              child.exitValue(), completeLines(stdout), read(stderr));
        }
        if (System.nanoTime() - deadline > 0) {
          fail("%s round %d: %d commits within %d s (want %d); stdout %s; stderr %s", backend, round, commits,
              TimeUnit.NANOSECONDS.toSeconds(CHILD_WAIT_NS), COMMITS_BEFORE_KILL, completeLines(stdout), read(stderr));
        }
        Thread.sleep(POLL_MS);
      }

      child.destroyForcibly();
      assertThat(child.waitFor(EXIT_WAIT_S, TimeUnit.SECONDS)).as("the killed child exits").isTrue();
      assertThat(child.exitValue()).as("the child died of SIGKILL; stderr %s", read(stderr))
          .isEqualTo(SIGKILL_EXIT_STATUS);
      // Every whole line the child wrote before it died counts as reported.
      return parse(completeLines(stdout), backend, round);
    } finally {
      if (child.isAlive()) {
        child.destroyForcibly();
        child.waitFor(EXIT_WAIT_S, TimeUnit.SECONDS);
      }
    }
  }

  /** The newline-terminated lines of {@code file}; a line cut off by the kill is not one. */
  private static List<String> completeLines(Path file) throws IOException {
    String text = Files.exists(file) ? Files.readString(file) : "";
    int end = text.lastIndexOf('\n');
    return end < 0 ? List.of() : List.of(text.substring(0, end).split("\n", -1));
  }

  private static int countCommits(List<String> lines) {
    return (int) lines.stream().filter(line -> line.startsWith("committed ")).count();
  }

  private static ChildRun parse(List<String> lines, Backend backend, int round) {
    assertThat(lines).as("%s round %d: child output", backend, round).isNotEmpty();
    assertThat(lines.getFirst()).startsWith("ready ");
    long first = Long.parseLong(lines.getFirst().substring("ready ".length()));
    List<Long> committed = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      assertThat(line).as("%s round %d: unexpected child output", backend, round).startsWith("committed ");
      committed.add(Long.parseLong(line.substring("committed ".length())));
    }
    return new ChildRun(first, committed, List.copyOf(lines));
  }

  /** Checks the recovered store and returns the batch the next child must start at. */
  private static long checkRecovered(Backend backend, Path directory, ChildRun run, String context) {
    try (KeyValueStore store = backend.open(directory)) {
      NavigableMap<Long, Set<Integer>> present = new TreeMap<>();
      List<Entry> batchEntries = scanAll(store, KeyRange.prefix(utf8("b")));
      for (Entry e : batchEntries) {
        String key = new String(e.key().unsafeArray(), StandardCharsets.UTF_8);
        int slash = key.indexOf('/');
        long batch = Long.parseLong(key.substring(1, slash));
        int j = Integer.parseInt(key.substring(slash + 1));
        assertThat(CrashWriterMain.parseValue(e.value())).as(context + ": value of " + key).isEqualTo(batch);
        present.computeIfAbsent(batch, b -> new HashSet<>()).add(j);
      }
      for (Map.Entry<Long, Set<Integer>> batch : present.entrySet()) {
        assertThat(batch.getValue()).as(context + ": batch " + batch.getKey() + " is whole, not partly present")
            .hasSize(KEYS_PER_BATCH);
      }
      long lastPresent = present.isEmpty() ? -1 : present.lastKey();
      long lastReported = run.lastReported();
      assertThat(present.keySet()).as(context + ": batches present are 0.." + lastPresent + " without gaps")
          .containsExactlyElementsOf(LongStream.rangeClosed(0, lastPresent).boxed().toList());
      assertThat(lastPresent).as(context + ": every reported batch (up to " + lastReported + ") is present")
          .isGreaterThanOrEqualTo(lastReported);
      assertThat(lastPresent).as(context + ": at most the one unreported batch in flight is present")
          .isLessThanOrEqualTo(lastReported + 1);
      assertThat(store.get(CrashWriterMain.LAST).map(CrashWriterMain::parseValue))
          .as(context + ": the last key was written with its batch").contains(lastPresent);
      assertThat(scanAll(store)).as(context + ": nothing else is stored")
          .hasSize(batchEntries.size() + 1);
      return lastPresent + 1;
    }
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "(none)";
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }
}
