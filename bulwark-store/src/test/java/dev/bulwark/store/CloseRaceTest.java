package dev.bulwark.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Closing snapshots and cursors on one thread while the store closes on another must never
 * free native memory twice or after the database ({@link CloseRaceMain}). Before the fix in
 * {@code CloseGuard.release} this crashed the JVM in RocksDB's iterator destructor in about
 * half the runs of 150 rounds; it runs in a child JVM so that a regression fails this test
 * with the crash log instead of killing the test run.
 */
class CloseRaceTest {
  private static final int ROUNDS = 300;
  private static final long CHILD_TIMEOUT_S = 120;

  @TempDir Path tmp;

  @ParameterizedTest
  @EnumSource(Backend.class)
  void closingResourcesWhileTheStoreClosesNeverCrashes(Backend backend) throws IOException, InterruptedException {
    Path stdout = tmp.resolve("child.stdout");
    Path stderr = tmp.resolve("child.stderr");
    Process child = new ProcessBuilder(StoreTesting.childJvm(tmp, CloseRaceMain.class,
        backend.name(), tmp.resolve("db").toString(), Integer.toString(ROUNDS)))
        .redirectOutput(stdout.toFile())
        .redirectError(stderr.toFile())
        .start();
    try {
      assertThat(child.waitFor(CHILD_TIMEOUT_S, TimeUnit.SECONDS)).as("the child finishes").isTrue();
      assertThat(child.exitValue()).as("%s child exit status; stderr:%n%s%ncrash log:%n%s", backend,
          Files.readString(stderr), crashLogHead()).isZero();
      assertThat(Files.readString(stdout)).contains("survived " + ROUNDS);
    } finally {
      if (child.isAlive()) {
        child.destroyForcibly();
        child.waitFor(CHILD_TIMEOUT_S, TimeUnit.SECONDS);
      }
    }
  }

  /** The first lines of the child's fatal error log, which name the native frame. */
  private String crashLogHead() throws IOException {
    try (Stream<Path> files = Files.list(tmp)) {
      List<Path> logs = files.filter(f -> f.getFileName().toString().startsWith("hs_err")).toList();
      if (logs.isEmpty()) {
        return "(none)";
      }
      List<String> lines = Files.readAllLines(logs.getFirst());
      return String.join("\n", lines.subList(0, Math.min(40, lines.size())));
    }
  }
}
