package dev.bulwark.cli.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The schedule is a pure function of its inputs, keeps faults apart, and restarts every killed replica. */
class FaultScheduleTest {
  static final FaultSchedule.Length MINUTE = new FaultSchedule.Length.Duration(60_000);

  @Test
  void theSameSeedGivesTheSameScheduleAndAnotherSeedAnother() {
    assertThat(FaultSchedule.plan(42, MINUTE, false)).isEqualTo(FaultSchedule.plan(42, MINUTE, false)).isNotEmpty();
    assertThat(FaultSchedule.plan(43, MINUTE, false)).isNotEqualTo(FaultSchedule.plan(42, MINUTE, false));
  }

  @Test
  void faultsDoNotOverlapAndKilledReplicasAreRestartedWithinTheRun() {
    for (FaultSchedule.Pace pace : FaultSchedule.Pace.values()) {
      for (long seed = 0; seed < 200; seed++) {
        faultsDoNotOverlap(seed, FaultSchedule.plan(seed, MINUTE, true, pace));
      }
    }
  }

  private static void faultsDoNotOverlap(long seed, List<Fault.Timed> plan) {
    {
      long busyUntil = 0;
      boolean down = false;
      for (Fault.Timed t : plan) {
        assertThat(t.atMillis()).as("seed %d: %s", seed, t).isGreaterThanOrEqualTo(busyUntil);
        switch (t.fault()) {
          case Fault.RestartKilled r -> {
            assertThat(down).as("seed %d: a restart follows a kill", seed).isTrue();
            down = false;
          }
          case Fault.KillLeader k -> {
            assertThat(down).isFalse();
            down = true;
          }
          case Fault.KillFollower k -> {
            assertThat(down).isFalse();
            down = true;
          }
          default -> assertThat(down).as("seed %d: nothing else while a replica is down", seed).isFalse();
        }
        busyUntil = FaultSchedule.endMillis(List.of(t));
      }
      assertThat(down).as("seed %d ends with every killed replica restarted", seed).isFalse();
      assertThat(FaultSchedule.endMillis(plan) + FaultSchedule.TAIL_MS).isLessThanOrEqualTo(60_000);
    }
  }

  @Test
  void aBriskPacePlansMoreFaultsIntoTheSameTime() {
    long steady = 0;
    long brisk = 0;
    for (long seed = 0; seed < 100; seed++) {
      steady += FaultSchedule.plan(seed, MINUTE, true, FaultSchedule.Pace.STEADY).size();
      brisk += FaultSchedule.plan(seed, MINUTE, true, FaultSchedule.Pace.BRISK).size();
    }
    assertThat(brisk).isGreaterThan(steady * 3 / 2);
  }

  @Test
  void withoutPartitionsNoneIsPlanned() {
    for (long seed = 0; seed < 200; seed++) {
      assertThat(FaultSchedule.plan(seed, MINUTE, false))
          .noneMatch(t -> t.fault() instanceof Fault.IsolateLeader || t.fault() instanceof Fault.SplitCluster);
    }
    assertThat(java.util.stream.LongStream.range(0, 50)
        .mapToObj(seed -> FaultSchedule.plan(seed, MINUTE, true)).flatMap(List::stream))
        .anyMatch(t -> t.fault() instanceof Fault.IsolateLeader);
  }

  @Test
  void aCountOfFaultsIsExactRestartsNotCounted() {
    List<Fault.Timed> plan = FaultSchedule.plan(7, new FaultSchedule.Length.Faults(12), false);
    assertThat(plan.stream().filter(t -> !(t.fault() instanceof Fault.RestartKilled)).count()).isEqualTo(12);
  }

  @Test
  void lengthsAreValidated() {
    assertThatThrownBy(() -> new FaultSchedule.Length.Duration(1_000)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new FaultSchedule.Length.Faults(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
