package dev.bulwark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.cli.chaos.ChaosReport;
import dev.bulwark.cli.chaos.ChaosRunner;
import dev.bulwark.cli.chaos.Checker;
import dev.bulwark.cli.chaos.FaultSchedule;
import dev.bulwark.cli.chaos.History;
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
 * A cluster left without a leader after the faults healed (what the Ratis 3.2.0 step-down
 * deadlock does, docs/chaos.md) must still get its final state read and checked, and the run
 * must fail for it rather than hang or end without a report. The test takes the leader away by
 * stopping every replica (SIGSTOP) once they converged; chaos then restarts them all, reads the
 * final state, and reports the liveness failure first, with the history otherwise passing the
 * checker. Slow (a cluster started and restarted, about a minute): run with
 * {@code -Dgroups=slow}.
 */
@Tag("slow")
class ChaosRecoveryTest {
  @TempDir
  Path dir;

  @Test
  void aClusterWithoutALeaderAfterHealingIsRestartedCheckedAndFailed() throws Exception {
    Path history = dir.resolve("history.jsonl");
    var options = new ChaosRunner.Options(11, new FaultSchedule.Length.Faults(2), FaultSchedule.Pace.STEADY, 3, 2,
        Optional.empty(), history, false, Checker.ReadRule.LINEARIZABLE);
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
