package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica's JVM killed with SIGKILL mid-stream recovers exactly the committed state on
 * restart: every deposit it confirmed is there, nothing beyond the one in flight, and the
 * supply matches the balance (no batch half applied).
 */
class ReplicaKillTest {
  @TempDir
  Path dir;

  private Process child(String mode, int port) throws IOException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx512m",
        "-cp", System.getProperty("java.class.path"), KillableReplicaMain.class.getName(), mode, dir.toString(),
        Integer.toString(port)));
    return new ProcessBuilder(command).redirectErrorStream(false).redirectError(ProcessBuilder.Redirect.DISCARD).start();
  }

  @Test
  void aKilledReplicaRecoversExactlyWhatItConfirmed() throws Exception {
    int port = InProcessCluster.freeLoopbackPort();
    Process writer = child("run", port);
    long lastConfirmed = 0;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8))) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      String line;
      while (lastConfirmed < 40 && System.nanoTime() < deadline && (line = out.readLine()) != null) {
        if (line.startsWith("confirmed ")) {
          lastConfirmed = Long.parseLong(line.substring("confirmed ".length()));
        }
      }
      writer.toHandle().destroyForcibly(); // SIGKILL on Linux; unlike Process.destroyForcibly it leaves the output readable
      assertThat(writer.waitFor(30, TimeUnit.SECONDS)).isTrue();
      // The writer went on between the line read last and the kill: what it printed before dying counts too.
      for (int i = 0; i < 100_000 && (line = out.readLine()) != null; i++) {
        if (line.startsWith("confirmed ")) {
          lastConfirmed = Long.parseLong(line.substring("confirmed ".length()));
        }
      }
    }
    assertThat(writer.exitValue()).isEqualTo(137);
    assertThat(lastConfirmed).as("deposits confirmed before the kill").isGreaterThanOrEqualTo(40);

    Process checker = child("check", port);
    String report = null;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(checker.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      for (int i = 0; i < 1000 && (line = out.readLine()) != null; i++) {
        if (line.startsWith("balance ")) {
          report = line;
          break;
        }
      }
    }
    assertThat(checker.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(report).startsWith("balance ");
    String[] parts = report.split(" ");
    long balance = Long.parseLong(parts[1]);
    long supply = Long.parseLong(parts[3]);
    assertThat(balance).as("every confirmed deposit survived").isGreaterThanOrEqualTo(lastConfirmed);
    assertThat(balance).as("at most the one deposit in flight beyond them").isLessThanOrEqualTo(lastConfirmed + 1);
    assertThat(supply).as("no batch half applied").isEqualTo(balance);
  }
}
