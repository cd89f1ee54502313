package dev.bulwark.cli.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RestartPriorityTest {
  /** A JVM with a few threads of its own, that starts one more after a second (as a replica starts threads late). */
  public static final class ThreadedSleeper {
    public static void main(String[] args) throws InterruptedException {
      for (int i = 0; i < 3; i++) {
        Thread.ofPlatform().daemon().start(ThreadedSleeper::sleep);
      }
      Thread.sleep(1_000);
      Thread.ofPlatform().daemon().start(ThreadedSleeper::sleep);
      sleep();
    }

    private static void sleep() {
      try {
        Thread.sleep(60_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Test
  void everyThreadOfABoostedLaunchRunsBoostedUntilRestoredThenNone() throws Exception {
    assumeTrue(RestartPriority.mayRaise(), "skipped: a higher priority than normal needs root");
    RestartPriority priority = new RestartPriority(-7);
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> argv = List.of(java, "-cp", System.getProperty("java.class.path"), ThreadedSleeper.class.getName());
    assertThat(priority.launch(argv)).startsWith("nice", "-n", "-7").endsWith(argv.toArray(String[]::new));

    Process process = new ProcessBuilder(priority.launch(argv)).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try {
      Map<String, Integer> boosted = Map.of();
      for (int look = 0; look < 100 && boosted.size() < 10; look++) { // a JVM has more than 10 threads
        Thread.sleep(100);
        boosted = RestartPriority.unusualNiceValues(process.pid());
      }
      assertThat(boosted).hasSizeGreaterThan(10);
      assertThat(boosted.values()).containsOnly(-7);
      assertThat(Files.readString(Path.of("/proc", Long.toString(process.pid()), "comm")).strip())
          .as("nice execs the command, so the pid is the JVM's").isEqualTo("java");

      priority.restore(process.toHandle());
      assertThat(RestartPriority.unusualNiceValues(process.pid())).isEmpty();
      Thread.sleep(1_200); // the sleeper has started its late thread, from a restored one
      assertThat(RestartPriority.unusualNiceValues(process.pid())).isEmpty();
    } finally {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void noBoostLeavesTheCommandAsItIs() throws Exception {
    RestartPriority none = new RestartPriority(0);
    List<String> argv = new ArrayList<>(List.of("java", "-version"));
    assertThat(none.boosts()).isFalse();
    assertThat(none.launch(argv)).isSameAs(argv);
    none.restore(ProcessHandle.current()); // nothing to do, and nothing done
  }

  @Test
  void aNiceValueOutsideMinusTwentyToZeroIsRefused() {
    assertThatThrownBy(() -> new RestartPriority(-21)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-21");
    assertThatThrownBy(() -> new RestartPriority(1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not 1");
  }
}
