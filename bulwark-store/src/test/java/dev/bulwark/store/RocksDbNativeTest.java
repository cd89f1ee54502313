package dev.bulwark.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process that has RocksDB open and is killed leaves nothing in its temporary directory:
 * RocksDB's own loader left its 15 MB native library there after every SIGKILL.
 */
class RocksDbNativeTest {
  private static final long CHILD_WAIT_NS = TimeUnit.SECONDS.toNanos(60);

  @TempDir
  Path tmp;

  @Test
  void aKilledProcessLeavesNoCopyOfTheNativeLibraryBehind() throws IOException, InterruptedException {
    Path childTmp = Files.createDirectories(tmp.resolve("child-tmp"));
    Path stdout = tmp.resolve("child.stdout");
    Path stderr = tmp.resolve("child.stderr");
    List<String> command = new ArrayList<>(StoreTesting.childJvm(tmp, CrashWriterMain.class,
        Backend.ROCKSDB.name(), tmp.resolve("store").toString(), "10", "1000000000"));
    command.add(1, "-Djava.io.tmpdir=" + childTmp);
    Process child = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
    try {
      long deadline = System.nanoTime() + CHILD_WAIT_NS;
      // The child has the store open, and has written through it, once it reports a commit.
      while (!Files.readString(stdout).contains("committed ")) {
        if (!child.isAlive()) {
          fail("the child ended (status %d) before it committed; stderr %s", child.exitValue(), Files.readString(stderr));
        }
        if (System.nanoTime() - deadline > 0) {
          fail("no commit within 60 s; stderr %s", Files.readString(stderr));
        }
        Thread.sleep(10);
      }
      child.destroyForcibly();
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("the killed child exits").isTrue();
      assertThat(child.exitValue()).as("the child died of SIGKILL").isEqualTo(128 + 9);
    } finally {
      child.destroyForcibly();
    }
    try (Stream<Path> left = Files.list(childTmp)) {
      assertThat(left.map(p -> p.getFileName().toString()).toList()).as("files left in the child's tmpdir").isEmpty();
    }
  }
}
