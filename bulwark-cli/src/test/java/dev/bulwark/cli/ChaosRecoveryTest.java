package dev.bulwark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.cli.chaos.ChaosReport;
import dev.bulwark.cli.chaos.ChaosRunner;
import dev.bulwark.cli.chaos.Checker;
import dev.bulwark.cli.chaos.FaultSchedule;
import dev.bulwark.cli.chaos.History;
import dev.bulwark.cli.chaos.RestartPriority;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos runs that end in trouble still end with a checked report.
 *
 * <p>A cluster left without a leader after the faults healed (what the Ratis 3.2.0 step-down
 * deadlock does, docs/chaos.md) must still get its final state read and checked, and the run
 * must fail for it rather than hang or end without a report. The test takes the leader away by
 * stopping every replica (SIGSTOP) once they converged; chaos then restarts them all, reads the
 * final state, and reports the liveness failure first, with the history otherwise passing the
 * checker.
 *
 * <p>A run whose disk runs short stops its faults early and is healed and checked as usual.
 *
 * <p>Slow (clusters started and restarted, about a minute each): run with {@code -Dgroups=slow}.
 */
@Tag("slow")
class ChaosRecoveryTest {
  @TempDir
  Path dir;

  @Test
  void aClusterWithoutALeaderAfterHealingIsRestartedCheckedAndFailed() throws Exception {
    Path history = dir.resolve("history.jsonl");
    var options = new ChaosRunner.Options(11, new FaultSchedule.Length.Faults(2), FaultSchedule.Pace.STEADY, 3, 2,
        Optional.empty(), history, false, Checker.ReadRule.LINEARIZABLE, 0, 0, 0);
    StringWriter text = new StringWriter();
    List<Long> stopped = new ArrayList<>();
    ChaosReport report = new ChaosRunner(options, new ChaosCommand(), new PrintWriter(text, true))
        .afterConverged(processes -> processes.values().forEach(p -> {
          stop(p);
          stopped.add(p.pid());
        }))
        .run();
    String out = text.toString();

    assertThat(stopped).as(out).hasSize(3);
    assertThat(out).contains("no leader after the faults healed; restarting every replica");
    assertThat(report.passed()).as(out).isFalse();
    assertThat(report.violations().getFirst()).startsWith("no leader after the faults healed");
    // The restarted cluster answered: the final state was read and the history holds up against it.
    assertThat(report.violations()).as(out).hasSize(1);
    assertThat(History.read(history).stream().filter(e -> e instanceof History.Complete c
        && c.completion().outcome() == History.Outcome.OK)).isNotEmpty();
    // The stopped processes were killed by the restart, and the restarted ones by the cleanup.
    for (long pid : stopped) {
      assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).as("stopped replica %d left behind", pid).isEmpty();
    }
  }

  /**
   * A disk about to fill must not cost the run its verdict: once free space falls below the
   * floor, the faults and the workload stop early, and the cluster is healed and checked as at
   * a planned end. Free space is injected: plenty for the first few looks, then too little.
   */
  @Test
  void aRunThatRunsShortOfDiskStopsEarlyAndStillChecks() throws Exception {
    Path history = dir.resolve("history.jsonl");
    var options = new ChaosRunner.Options(12, new FaultSchedule.Length.Faults(1_000), FaultSchedule.Pace.BRISK, 3, 2,
        Optional.empty(), history, false, Checker.ReadRule.LINEARIZABLE, 2_000_000_000L, -10, 1_000);
    StringWriter text = new StringWriter();
    java.util.concurrent.atomic.AtomicInteger looks = new java.util.concurrent.atomic.AtomicInteger();
    int normal = RestartPriority.niceOfThisThread();
    java.util.Map<Long, java.util.Map<Long, Integer>> boostedAtTheEnd = new java.util.concurrent.ConcurrentHashMap<>();
    ChaosReport report = new ChaosRunner(options, new ChaosCommand(), new PrintWriter(text, true))
        // two places (history, cluster) per look, a look every 5 s: about 20 s of faults
        .diskSpace(place -> looks.incrementAndGet() <= 10 ? Long.MAX_VALUE : 1_000_000_000L)
        .afterConverged(processes -> processes.values().forEach(p -> {
          try {
            boostedAtTheEnd.put(p.pid(), RestartPriority.niceValuesOtherThan(p.pid(), normal));
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }))
        .run();
    String out = text.toString();
    // Restarted replicas ran boosted (--restart-nice -10) until they caught up; none is left so.
    assertThat(boostedAtTheEnd).as(out).hasSize(3);
    assertThat(boostedAtTheEnd.values()).as(out).allSatisfy(threads -> assertThat(threads).isEmpty());

    if (dev.bulwark.cli.net.NetworkLab.unavailableReason().isEmpty()
        && dev.bulwark.cli.net.NetworkLab.kernelBoundsRetransmitBackoff()) {
      assertThat(out).contains("TCP's retransmission back-off between replicas is capped at 1000 ms");
    }
    assertThat(out).doesNotContain("warning:").contains("stopping the faults and the workload early: free disk space for")
        .contains("fell to 1,000 MB, below the floor of 2,000 MB");
    assertThat(report.passed()).as(out).isTrue();
    assertThat(report.notes()).as(out).anySatisfy(n -> assertThat(n).startsWith("the run ended early, after ")
        .contains(" of 1000 planned faults: free disk space"));
    long injected = History.read(history).stream().filter(e -> e instanceof History.FaultEvent f
        && !f.kind().equals("restart") && !f.detail().startsWith("skipped")).count();
    assertThat(injected).as(out).isPositive().isLessThan(1_000);
    assertThat(History.read(history).stream().filter(e -> e instanceof History.FaultEvent f && f.kind().equals("restart")))
        .as("a replica was restarted (boosted) during the run: " + out).isNotEmpty();
    assertThat(History.read(history).stream().filter(e -> e instanceof History.Complete c
        && c.completion().outcome() == History.Outcome.OK)).isNotEmpty();
  }

  private static void stop(ProcessHandle p) {
    try {
      Process kill = new ProcessBuilder("kill", "-STOP", Long.toString(p.pid())).start();
      assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(kill.exitValue()).isZero();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
