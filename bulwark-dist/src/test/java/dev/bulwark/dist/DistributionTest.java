package dev.bulwark.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The archive, unpacked somewhere else, runs on its own: launcher, jar, native storage. */
class DistributionTest {
  @TempDir
  Path dir;

  record Run(int exit, String output) {}

  static Run run(Path workDir, List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + command);
    }
    return new Run(p.exitValue(), out);
  }

  @Test
  void theUnpackedArchiveRunsTheCommand() throws Exception {
    String version = System.getProperty("bulwark.version", "0.1.0-SNAPSHOT");
    Path archive = Path.of("target", "bulwark-" + version + ".tar.gz").toAbsolutePath();
    assertThat(archive).exists();
    Run untar = run(dir, List.of("tar", "xzf", archive.toString()));
    assertThat(untar.exit()).as(untar.output()).isZero();
    Path home = dir.resolve("bulwark-" + version);
    assertThat(home.resolve("lib/bulwark.jar")).exists();
    assertThat(home.resolve("docs/receipts.md")).exists();
    assertThat(home.resolve("conf/bulwark-replica@.service")).exists();
    assertThat(home.resolve("README.md")).exists();
    assertThat(Files.getPosixFilePermissions(home.resolve("bin/bulwark"))).contains(PosixFilePermission.OWNER_EXECUTE);

    Run help = run(dir, List.of(home.resolve("bin/bulwark").toString(), "--help"));
    assertThat(help.exit()).as(help.output()).isZero();
    assertThat(help.output()).contains("demo", "cluster", "bench", "audit");
    // The tour opens a real RocksDB: the native library loads from the distribution's jar.
    Run tour = run(dir, List.of(home.resolve("bin/bulwark").toString(), "tour", "--dir", dir.resolve("tour").toString()));
    assertThat(tour.exit()).as(tour.output()).isZero();
    assertThat(tour.output()).containsIgnoringCase("receipt");
  }
}
