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
  /** A JVM that keeps starting threads for a while, from a thread of its own, as a starting replica does. */
  public static final class ThreadedSleeper {
    public static void main(String[] args) throws InterruptedException {
      Thread spawner = Thread.ofPlatform().start(() -> {
        for (int i = 0; i < 300; i++) {
          Thread.ofPlatform().daemon().start(ThreadedSleeper::sleep);
          pause(5);
        }
      });
      spawner.join();
      sleep();
    }

    private static void sleep() {
      pause(60_000);
    }

    private static void pause(long millis) {
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Test
  void everyThreadOfABoostedLaunchRunsBoostedUntilRestoredThenAtTheLaunchersNiceValue() throws Exception {
    assumeTrue(RestartPriority.mayRaise(), "skipped: a higher priority than one's own needs CAP_SYS_NICE");
    RestartPriority priority = new RestartPriority(-7);
    int normal = RestartPriority.niceOfThisThread();
    int expected = Math.max(RestartPriority.STRONGEST, normal - 7);
    assumeTrue(expected != normal, "skipped: this test already runs at the highest priority");
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> argv = List.of(java, "-cp", System.getProperty("java.class.path"), ThreadedSleeper.class.getName());
    assertThat(priority.launch(argv)).startsWith("nice", "-n", "-7").endsWith(argv.toArray(String[]::new));

    Process process = new ProcessBuilder(priority.launch(argv)).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try {
      Map<Long, Integer> threads = Map.of();
      for (int look = 0; look < 100 && threads.size() <= 30; look++) { // the JVM's own threads, then the sleeper's
        Thread.sleep(100);
        threads = RestartPriority.niceValues(process.pid());
      }
      assertThat(threads).hasSizeGreaterThan(30);
      assertThat(threads.values()).as("every thread, nice values by thread").containsOnly(expected);
      assertThat(Files.readString(Path.of("/proc", Long.toString(process.pid()), "comm")).strip())
          .as("nice execs the command, so the pid is the JVM's").isEqualTo("java");

      assertThat(priority.restore(process.toHandle())).isZero(); // while the sleeper still starts threads
      assertThat(RestartPriority.niceValuesOtherThan(process.pid(), normal)).isEmpty();
      Thread.sleep(300); // threads started since, by restored threads
      Map<Long, Integer> after = RestartPriority.niceValues(process.pid());
      assertThat(after.size()).isGreaterThan(threads.size());
      assertThat(after.values()).containsOnly(normal);
    } finally {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    assertThat(priority.restore(process.toHandle())).as("an exited process has no thread left to restore").isZero();
  }

  @Test
  void noBoostLeavesTheCommandAndTheProcessAsTheyAre() throws Exception {
    List<String> argv = new ArrayList<>(List.of("java", "-version"));
    assertThat(RestartPriority.NONE.boosts()).isFalse();
    assertThat(RestartPriority.NONE.launch(argv)).isSameAs(argv);
    Map<Long, Integer> before = RestartPriority.niceValues(ProcessHandle.current().pid());
    assertThat(RestartPriority.NONE.restore(ProcessHandle.current())).isZero();
    assertThat(RestartPriority.niceValues(ProcessHandle.current().pid()).get(ProcessHandle.current().pid()))
        .isEqualTo(before.get(ProcessHandle.current().pid()));
  }

  @Test
  void aNiceValueOutsideMinusTwentyToZeroIsRefused() {
    assertThatThrownBy(() -> new RestartPriority(-21)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-21");
    assertThatThrownBy(() -> new RestartPriority(1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not 1");
  }
}
