package dev.bulwark.server.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class LoopbackPortsTest {
  private static final int[] CLUSTER_OF_THREE = {1, 2, 3, 101, 102, 103, 201, 202, 203};

  @Test
  void theKernelSettingIsReadAsTwoNumbersAndAnythingElseFallsBackToLinuxsDefault() {
    assertThat(LoopbackPorts.parseRange("32768\t60999\n")).isEqualTo(new LoopbackPorts.Range(32_768, 60_999));
    assertThat(LoopbackPorts.parseRange("  1024 4999 ")).isEqualTo(new LoopbackPorts.Range(1024, 4999));
    for (String bad : List.of("", "32768", "a b", "60999 32768", "0 100", "1 70000", "1 2 3")) {
      assertThat(LoopbackPorts.parseRange(bad)).as(bad).isEqualTo(LoopbackPorts.EPHEMERAL_DEFAULT);
    }
  }

  @Test
  void basesLieBelowTheEphemeralRangeOrAboveItWhenBelowIsTooSmall() {
    assertThat(LoopbackPorts.basesOutside(new LoopbackPorts.Range(32_768, 60_999), 203))
        .contains(new LoopbackPorts.Range(10_000, 32_564));
    // 10000..10203 is the smallest stretch that holds a span of 203 below the range.
    assertThat(LoopbackPorts.basesOutside(new LoopbackPorts.Range(10_204, 60_999), 203))
        .contains(new LoopbackPorts.Range(10_000, 10_000));
    assertThat(LoopbackPorts.basesOutside(new LoopbackPorts.Range(10_203, 60_999), 203))
        .contains(new LoopbackPorts.Range(61_000, 65_332));
    assertThat(LoopbackPorts.basesOutside(new LoopbackPorts.Range(1024, 65_400), 203)).isEmpty();
  }

  @Test
  void aSpanIsFreeOutsideTheEphemeralRangeOnThisMachine() throws Exception {
    LoopbackPorts.Range ephemeral = LoopbackPorts.ephemeralRange();
    RandomGenerator random = new SplittableRandom(7);
    for (int i = 0; i < 20; i++) {
      int base = LoopbackPorts.freeSpan(CLUSTER_OF_THREE, random).orElseThrow();
      for (int offset : CLUSTER_OF_THREE) {
        int port = base + offset;
        assertThat(port < ephemeral.low() || port > ephemeral.high()).as("port %d outside %s", port, ephemeral).isTrue();
        try (ServerSocket bound = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
          assertThat(bound.getLocalPort()).isEqualTo(port);
        }
      }
    }
  }

  @Test
  void aCandidateWithOnePortTakenIsPassedOver() throws Exception {
    LoopbackPorts.Range ephemeral = LoopbackPorts.ephemeralRange();
    int free = LoopbackPorts.freeSpan(CLUSTER_OF_THREE, new SplittableRandom(11)).orElseThrow();
    int held = LoopbackPorts.freePort(new SplittableRandom(13));
    try (ServerSocket taken = new ServerSocket(held, 1, InetAddress.getLoopbackAddress())) {
      assertThat(taken.getLocalPort()).isEqualTo(held);
      // The first candidate puts the held port at offset 202; the second is the free base.
      RandomGenerator scripted = new Scripted(held - 202, free);
      assertThat(LoopbackPorts.allFree(held - 202, CLUSTER_OF_THREE)).isFalse();
      assertThat(LoopbackPorts.freeSpan(CLUSTER_OF_THREE, scripted, ephemeral)).isEqualTo(OptionalInt.of(free));
    }
  }

  @Test
  void portsOutOfRangeOrZeroAreNeverFree() {
    assertThat(LoopbackPorts.allFree(-1, new int[] {1})).as("port 0, any port").isFalse();
    assertThat(LoopbackPorts.allFree(-5, new int[] {1})).isFalse();
    assertThat(LoopbackPorts.allFree(65_535, new int[] {0, 1})).isFalse();
  }

  @Test
  void noFreeSpanAfterEveryAttemptFailsIsEmptyNotALoopWithoutEnd() throws Exception {
    int held = LoopbackPorts.freePort(new SplittableRandom(17));
    try (ServerSocket taken = new ServerSocket(held, 1, InetAddress.getLoopbackAddress())) {
      assertThat(taken.getLocalPort()).isEqualTo(held);
      assertThat(LoopbackPorts.freeSpan(new int[] {0}, new FixedTo(held), LoopbackPorts.ephemeralRange())).isEmpty();
    }
  }

  /** Returns the given values in order, then fails: what a candidate search draws, scripted. */
  private static final class Scripted implements RandomGenerator {
    private final Deque<Integer> values = new ArrayDeque<>();

    Scripted(int... values) {
      for (int v : values) {
        this.values.add(v);
      }
    }

    @Override public int nextInt(int origin, int bound) {
      int v = values.removeFirst();
      assertThat(v).isBetween(origin, bound - 1);
      return v;
    }

    @Override public long nextLong() {
      throw new AssertionError("the search draws bounded ints only");
    }
  }

  /** Always the same port. */
  private record FixedTo(int port) implements RandomGenerator {
    @Override public int nextInt(int origin, int bound) {
      return port;
    }

    @Override public long nextLong() {
      throw new AssertionError("the search draws bounded ints only");
    }
  }
}
