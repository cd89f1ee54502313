package dev.bulwark.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProcessCpuTest {
  @Test
  void readsUserAndSystemTicksAfterTheCommandNameEvenWhenItHoldsParentheses() {
    String stat = "4242 (java (weird) name) S 1 4242 4242 0 -1 4194560 2134 0 3 0 1234 56 0 0 39 19 57 0 9 1 2 3";
    assertThat(ProcessCpu.parseStat(stat)).hasValue((1234 + 56) * 10_000_000L);
    assertThat(ProcessCpu.parseStat("garbage")).isEmpty();
    assertThat(ProcessCpu.parseStat("1 (x) S 1 2")).isEmpty();
  }

  @Test
  void samplesThisProcessAndLeavesOutOnesThatCannotBeRead() {
    assumeTrue(Files.isReadable(Path.of("/proc/self/stat")), "Linux /proc");
    long self = ProcessHandle.current().pid();
    Map<String, Long> sample = new ProcessCpu(Map.of("me", self, "gone", Long.MAX_VALUE)).sample();
    assertThat(sample).containsKeys("me", ProcessCpu.SELF).doesNotContainKey("gone");
    assertThat(sample.get(ProcessCpu.SELF)).isPositive();
  }

  @Test
  void usedIsTheDifferenceForProcessesInBothSamples() {
    assertThat(ProcessCpu.used(Map.of("a", 10L, "b", 5L), Map.of("a", 25L, "c", 7L))).isEqualTo(Map.of("a", 15L));
  }
}
