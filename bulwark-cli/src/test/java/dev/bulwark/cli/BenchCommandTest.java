package dev.bulwark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.cli.ClusterCommandTest.Run;
import dev.bulwark.core.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bulwark bench} as a user runs it: refused options, then a short run against a real three-replica cluster. */
class BenchCommandTest {
  @TempDir
  Path dir;

  Path cluster;

  @AfterEach
  void stopEverything() {
    if (cluster != null && Files.isDirectory(cluster)) {
      ClusterCommandTest.run("cluster", "down", cluster.toString());
    }
  }

  @Test
  void badOptionsAreRefusedInOneLineBeforeAnythingIsSent() {
    String c = dir.resolve("no-cluster").toString();
    assertRefused("--clients must be between 1 and 4096, got 0", "bench", "--cluster", c, "--clients", "0");
    assertRefused("--accounts (5) must be at least --clients (10)", "bench", "--cluster", c, "--clients", "10",
        "--accounts", "5");
    assertRefused("--duration takes whole seconds, minutes or hours such as 30s, 2m or 1h; got '1.5s'", "bench",
        "--cluster", c, "--duration", "1.5s");
    assertRefused("give --duration or --transfers, not both", "bench", "--cluster", c, "--duration", "5s",
        "--transfers", "3");
    assertRefused("no cluster directory at " + c, "bench", "--cluster", c, "--duration", "5s");
  }

  private static void assertRefused(String message, String... args) {
    Run r = ClusterCommandTest.run(args);
    assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(2);
    assertThat(r.err()).startsWith("bulwark: ").contains(message).doesNotContain("Exception");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void aShortRunAgainstAClusterReportsJsonOnStandardOutputAndProgressOnStandardError() throws Exception {
    cluster = dir.resolve("cluster");
    Run init = ClusterCommandTest.run("cluster", "init", cluster.toString(), "--base-port",
        Integer.toString(ClusterCommandTest.freeBasePort()));
    assertThat(init.exit()).as(init.err()).isZero();
    Run up = ClusterCommandTest.run("cluster", "up", cluster.toString());
    assertThat(up.exit()).as(up.out() + up.err()).isZero();

    // Open loop: at 40 transfers a second for 2 s after 1 s of warmup, no more than the schedule allows is measured.
    Run bench = ClusterCommandTest.run("bench", "--cluster", cluster.toString(), "--clients", "4", "--duration", "2s",
        "--warmup", "1s", "--rate", "40", "--json", "--html", dir.resolve("bench.html").toString());
    assertThat(bench.exit()).as(bench.out() + bench.err()).isZero();
    @SuppressWarnings("unchecked")
    Map<String, Object> report = (Map<String, Object>) Json.parse(bench.out());
    assertThat(report).containsEntry("source", "signed").containsEntry("clients", 4L).containsEntry("accounts", 8L)
        .containsEntry("loop", "open").containsEntry("ratePerSecond", 40L).containsEntry("warmupSeconds", 1L)
        .containsEntry("durationSeconds", 2L).containsEntry("errorsTotal", 0L);
    assertThat((Long) report.get("confirmed")).isBetween(1L, 2 * 40L + 4);
    assertThat((List<?>) report.get("windows")).hasSize(2);
    @SuppressWarnings("unchecked")
    Map<String, Object> latency = (Map<String, Object>) report.get("latencyMicros");
    assertThat((Long) latency.get("p50")).isPositive().isLessThanOrEqualTo((Long) latency.get("p99"));
    assertThat((Long) latency.get("p99")).isLessThanOrEqualTo((Long) latency.get("max"));
    assertThat(bench.err()).startsWith("opening and funding 8 accounts").contains("HTML report: ");
    assertThat(Files.readString(dir.resolve("bench.html"))).contains("<svg", "latency histogram", "<rect ");
    List<String> progress = bench.err().lines().filter(l -> l.contains("confirmed/s")).toList();
    assertThat(progress).hasSizeGreaterThanOrEqualTo(3);
    assertThat(progress.getFirst()).startsWith("    1 s (warmup)");
    assertThat(progress.get(1)).startsWith("    2 s  ");
    assertThat(progress.get(2)).startsWith("    3 s  ");
    assertThat(bench.err()).contains("(receipts without state proofs)");

    // Receipts with state proofs, each verified by the client; the CPU per process, the JIT compilers apart.
    Run proofs = ClusterCommandTest.run("bench", "--cluster", cluster.toString(), "--clients", "2", "--transfers", "3",
        "--state-proofs", "--cpu", "--json");
    assertThat(proofs.exit()).as(proofs.out() + proofs.err()).isZero();
    assertThat(proofs.err()).contains("(receipts with state proofs)");
    @SuppressWarnings("unchecked")
    Map<String, Object> withProofs = (Map<String, Object>) Json.parse(proofs.out());
    assertThat(withProofs).containsEntry("confirmed", 12L).containsEntry("errorsTotal", 0L);
    @SuppressWarnings("unchecked")
    Map<String, Object> cpu = (Map<String, Object>) withProofs.get("cpuMillisPerThousand");
    assertThat(cpu).containsKeys("r1", "bench", "jit", "all", "all but jit");
  }
}
