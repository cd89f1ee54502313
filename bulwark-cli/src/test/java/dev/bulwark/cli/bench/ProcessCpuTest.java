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

  @Test
  void compilerThreadsAreToldApartByTheirTruncatedNames() {
    assertThat(ProcessCpu.isCompilerThread("17 (C2 CompilerThre) S 1 2 3")).isTrue();
    assertThat(ProcessCpu.isCompilerThread("18 (C1 CompilerThre) S 1 2 3")).isTrue();
    assertThat(ProcessCpu.isCompilerThread("19 (bulwark-sequenc) S 1 2 3")).isFalse();
    assertThat(ProcessCpu.isCompilerThread("no parentheses")).isFalse();
  }

  @Test
  void usedLeavesTheJitCompilersOutOfEachProcessAndTotalsThemApart() {
    Map<String, Long> before = Map.of("r1", 100L, "r1 jit", 0L, "bench", 50L, "bench jit", 0L, "r2", 10L);
    Map<String, Long> after = Map.of("r1", 400L, "r1 jit", 120L, "bench", 150L, "bench jit", 30L, "r2", 60L);
    assertThat(ProcessCpu.used(before, after))
        .isEqualTo(Map.of("r1", 180L, "bench", 70L, "r2", 50L, ProcessCpu.JIT, 150L));
  }

  @Test
  void aBusyProcessSamplesItsOwnCompilerThreadsWithoutCountingThemTwice() {
    assumeTrue(Files.isReadable(Path.of("/proc/self/task")), "Linux /proc");
    ProcessCpu cpu = new ProcessCpu(Map.of());
    Map<String, Long> first = cpu.sample();
    long sink = 0;
    for (int round = 0; round < 200; round++) {
      sink += Long.toString(round * 31L).hashCode(); // bounded work, some of it compiled
    }
    Map<String, Long> second = cpu.sample();
    Map<String, Long> used = ProcessCpu.used(first, second);
    assertThat(used).containsKeys(ProcessCpu.SELF, ProcessCpu.JIT);
    assertThat(used.get(ProcessCpu.SELF) + used.get(ProcessCpu.JIT))
        .as("the process's time, split (work %d)", sink)
        .isEqualTo(second.get(ProcessCpu.SELF) - first.get(ProcessCpu.SELF));
    assertThat(first.get(ProcessCpu.SELF + " " + ProcessCpu.JIT)).as("nothing counted before the first sample").isZero();
  }
}
