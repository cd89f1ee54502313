package dev.bulwark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo end to end, short: three replica processes, a SIGKILLed leader, a restart, the
 * checks; it passes, prints its summary, and leaves no replica process behind.
 */
class DemoCommandTest {
  @TempDir
  Path dir;

  @Test
  void shortDemoPassesAndLeavesNoProcessBehind() throws Exception {
    Path cluster = dir.resolve("demo");
    ClusterCommandTest.Run run = ClusterCommandTest.run("demo", "--duration", "8", "--accounts", "4", "--dir",
        cluster.toString());
    String out = run.out();
    List<Long> pids = pids(out);
    try {
      assertThat(run.exit()).as(out + run.err()).isZero();
      assertThat(out).contains("killed the leader r", "with SIGKILL", "the next transfer was confirmed", "caught up: it applied batch",
          "Summary", "All checks passed.");
      assertThat(summaryLine(out, "failover")).containsPattern("next confirmation after [0-9,]+ ms");
      assertThat(summaryLine(out, "catch-up")).contains("restarted, answered after");
      assertThat(summaryLine(out, "receipts verified")).matches(".*verified +(\\d+) of \\1 sampled$");
      assertThat(summaryLine(out, "balances")).contains("4,000,000 = deposits 4,000,000").doesNotContain("FAILED");
      assertThat(summaryLine(out, "state digest")).containsPattern("all 3 replicas at batch [0-9,]+: state root [0-9a-f]{64}");
      assertThat(summaryLine(out, "audit")).endsWith("every sampled receipt's head is in the log");
      assertThat(out).containsPattern("checked through batch [0-9]+ of [0-9]+");
      assertThat(summaryLine(out, "processes")).endsWith("all stopped");
      // Three replicas started, and the killed one started again.
      assertThat(pids).hasSize(4).doesNotHaveDuplicates();
      for (long pid : pids) {
        assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).as("pid " + pid).isEmpty();
      }
      for (String id : List.of("r1", "r2", "r3")) {
        assertThat(cluster.resolve(id).resolve("replica.log")).exists();
        assertThat(cluster.resolve(id).resolve("replica.pid")).doesNotExist();
      }
      Path receipt = cluster.resolve("receipt.json");
      ClusterCommandTest.Run verified = ClusterCommandTest.run("verify", "receipt", receipt.toString(), "--operator-key",
          cluster.resolve("operator.pub").toString());
      assertThat(verified.exit()).as(verified.out()).isZero();
    } finally {
      for (long pid : pids) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }

  @Test
  void refusesBadOptionsAndAUsedDirectory() throws Exception {
    assertThat(ClusterCommandTest.run("demo", "--duration", "1").exit()).isEqualTo(2);
    assertThat(ClusterCommandTest.run("demo", "--accounts", "1").exit()).isEqualTo(2);
    Files.writeString(dir.resolve("something"), "x");
    ClusterCommandTest.Run used = ClusterCommandTest.run("demo", "--dir", dir.toString());
    assertThat(used.exit()).isEqualTo(2);
    assertThat(used.err()).contains("is not empty");
  }

  /** The pids the demo printed for the processes it started. */
  private static List<Long> pids(String out) {
    Matcher m = Pattern.compile("^ +r\\d: pid (\\d+), log |^ +restarted r\\d \\(pid (\\d+)\\)", Pattern.MULTILINE).matcher(out);
    List<Long> pids = new java.util.ArrayList<>();
    while (m.find()) {
      pids.add(Long.parseLong(m.group(1) != null ? m.group(1) : m.group(2)));
    }
    return pids;
  }

  private static String summaryLine(String out, String label) {
    return out.lines().filter(l -> l.startsWith("  " + label + " ")).findFirst().orElse("(no '" + label + "' line)");
  }
}
