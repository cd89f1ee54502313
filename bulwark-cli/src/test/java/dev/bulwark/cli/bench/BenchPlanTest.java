package dev.bulwark.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.OptionalLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BenchPlanTest {
  @Test
  void defaultsAre64ClientsOverTwiceAsManyAccountsFor30SecondsAfter5OfWarmup() {
    BenchPlan plan = BenchPlan.fromOptions(null, null, null, null, null, null);
    assertThat(plan).isEqualTo(new BenchPlan(64, 128, 5, new BenchPlan.Length.Seconds(30), OptionalLong.empty()));
    assertThat(plan.openLoop()).isFalse();
    assertThat(plan.clientIntervalNanos()).isZero();
  }

  @Test
  void fewAccountsMeanAsFewClientsAndTransfersMeanNoWarmup() {
    BenchPlan plan = BenchPlan.fromOptions(null, 4, null, null, 5L, null);
    assertThat(plan).isEqualTo(new BenchPlan(4, 4, 0, new BenchPlan.Length.TransfersPerAccount(5), OptionalLong.empty()));
    assertThat(BenchPlan.fromOptions(8, null, "2m", "0", null, 400L))
        .isEqualTo(new BenchPlan(8, 16, 0, new BenchPlan.Length.Seconds(120), OptionalLong.of(400)));
  }

  @Test
  void durationsAreWholeSecondsMinutesOrHours() {
    assertThat(BenchPlan.parseSeconds("--duration", "45")).isEqualTo(45);
    assertThat(BenchPlan.parseSeconds("--duration", "10s")).isEqualTo(10);
    assertThat(BenchPlan.parseSeconds("--duration", " 2m ")).isEqualTo(120);
    assertThat(BenchPlan.parseSeconds("--duration", "1h")).isEqualTo(3600);
    for (String bad : new String[] {"1.5s", "500ms", "-3s", "s", "", "10d", "99999999s"}) {
      assertThatThrownBy(() -> BenchPlan.parseSeconds("--warmup", bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("--warmup takes whole seconds");
    }
  }

  @Test
  void optionsOutsideTheirLimitsAreRefusedWithTheOptionNamed() {
    assertRefused(0, null, null, null, null, null, "--clients must be between 1 and 4096, got 0");
    assertRefused(5000, null, null, null, null, null, "--clients must be between 1 and 4096");
    assertRefused(null, 1, null, null, null, null, "--accounts must be between 2");
    assertRefused(10, 5, null, null, null, null, "--accounts (5) must be at least --clients (10)");
    assertRefused(null, null, "0s", null, null, null, "--duration must be between 1 s");
    assertRefused(null, null, "25h", null, null, null, "--duration must be between 1 s and 86400 s");
    assertRefused(null, null, null, "2h", null, null, "--warmup must be between 0 s and 3600 s");
    assertRefused(null, null, null, null, 0L, null, "--transfers must be between 1");
    assertRefused(null, null, null, null, null, 0L, "--rate must be between 1");
    assertRefused(null, null, "10s", null, 5L, null, "give --duration or --transfers, not both");
    assertRefused(null, null, null, "1s", 5L, null, "--warmup applies to --duration runs");
  }

  private static void assertRefused(Integer clients, Integer accounts, String duration, String warmup, Long transfers,
      Long rate, String message) {
    assertThatThrownBy(() -> BenchPlan.fromOptions(clients, accounts, duration, warmup, transfers, rate))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
  }

  @Test
  void everyAccountBelongsToExactlyOneClient() {
    for (int[] shape : new int[][] {{1, 2}, {3, 3}, {4, 10}, {64, 128}, {7, 100}}) {
      BenchPlan plan = new BenchPlan(shape[0], shape[1], 0, new BenchPlan.Length.Seconds(1), OptionalLong.empty());
      int[] all = IntStream.range(0, plan.clients()).flatMap(c -> Arrays.stream(plan.accountsOf(c))).sorted().toArray();
      assertThat(all).as(Arrays.toString(shape)).isEqualTo(IntStream.range(0, plan.accounts()).toArray());
      for (int c = 0; c < plan.clients(); c++) {
        assertThat(plan.accountsOf(c)).isNotEmpty();
      }
    }
  }

  @Test
  void openLoopSpreadsTheRateOverTheClients() {
    BenchPlan plan = new BenchPlan(10, 20, 0, new BenchPlan.Length.Seconds(1), OptionalLong.of(500));
    assertThat(plan.openLoop()).isTrue();
    assertThat(plan.clientIntervalNanos()).isEqualTo(20_000_000L); // each of 10 clients sends 50/s
  }
}
