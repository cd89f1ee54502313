package dev.bulwark.cli.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The fault schedule as a pure function of the seed, the run's length and whether partitions
 * can be made: the same inputs give the same faults at the same offsets, so a failing run can
 * be replayed. Faults never overlap: a pause or a partition ends, and a killed replica is
 * restarted and given time to catch up, before the next fault starts, so at most one replica
 * is out at a time and a 3-replica cluster keeps a majority between faults.
 */
public final class FaultSchedule {
  private FaultSchedule() {}

  /** The workload runs this long before the first fault. */
  static final long WARMUP_MS = 3_000;
  /** Left free of faults at the end of a timed run, for the last failover to finish. */
  static final long TAIL_MS = 4_000;

  /**
   * How densely faults follow each other. Steady leaves seconds of calm around each fault, so
   * failover times are those of a healthy cluster; brisk packs faults for long runs (a thousand
   * faults in an hour or two), restarting a killed replica within two seconds and starting the
   * next fault about a second after the previous one ended and the restarted replica follows
   * again. Faults still never overlap.
   */
  public enum Pace {
    STEADY(2_000, 3_000, 2_000, 3_000, 3_000, 1_000, 3_000),
    BRISK(500, 1_000, 1_000, 1_000, 0, 500, 1_500);

    final long gapMinMs;
    final long gapSpreadMs;
    final long restartMinMs;
    final long restartSpreadMs;
    final long settleMs;
    final long pauseMinMs;
    final long pauseSpreadMs;

    Pace(long gapMinMs, long gapSpreadMs, long restartMinMs, long restartSpreadMs, long settleMs, long pauseMinMs,
        long pauseSpreadMs) {
      this.gapMinMs = gapMinMs;
      this.gapSpreadMs = gapSpreadMs;
      this.restartMinMs = restartMinMs;
      this.restartSpreadMs = restartSpreadMs;
      this.settleMs = settleMs;
      this.pauseMinMs = pauseMinMs;
      this.pauseSpreadMs = pauseSpreadMs;
    }
  }

  /** How long the run is: a duration, or a number of faults (restarts not counted). */
  public sealed interface Length {
    record Duration(long millis) implements Length {
      public Duration {
        if (millis < WARMUP_MS + TAIL_MS) {
          throw new IllegalArgumentException("a chaos run lasts at least " + (WARMUP_MS + TAIL_MS) / 1000 + " s");
        }
      }
    }

    record Faults(int count) implements Length {
      public Faults {
        if (count < 1 || count > 10_000) {
          throw new IllegalArgumentException("a chaos run injects 1 to 10000 faults, not " + count);
        }
      }
    }
  }

  /**
   * The faults of a run. {@code partitions} is whether network partitions can be made (root and
   * network namespaces); without it only kills, pauses and restarts are planned.
   */
  public static List<Fault.Timed> plan(long seed, Length length, boolean partitions) {
    return plan(seed, length, partitions, Pace.STEADY);
  }

  /** The faults of a run at the given pace. */
  public static List<Fault.Timed> plan(long seed, Length length, boolean partitions, Pace pace) {
    SplittableRandom random = new SplittableRandom(seed);
    List<Fault.Timed> faults = new ArrayList<>();
    long at = WARMUP_MS;
    int injected = 0;
    while (true) {
      Fault fault = pick(random, partitions, pace);
      List<Fault.Timed> step = new ArrayList<>();
      step.add(new Fault.Timed(at, fault));
      long busyUntil = at + switch (fault) {
        case Fault.PauseLeader p -> p.millis();
        case Fault.PauseFollower p -> p.millis();
        case Fault.IsolateLeader i -> i.millis();
        case Fault.SplitCluster s -> s.millis();
        default -> 0;
      };
      if (fault instanceof Fault.KillLeader || fault instanceof Fault.KillFollower) {
        long restartAt = at + pace.restartMinMs + random.nextLong(pace.restartSpreadMs);
        step.add(new Fault.Timed(restartAt, new Fault.RestartKilled()));
        // A replica takes seconds to start and catch up on a loaded machine (the injector also
        // waits until it has caught up before going on).
        busyUntil = restartAt + pace.settleMs;
      }
      long next = busyUntil + pace.gapMinMs + random.nextLong(pace.gapSpreadMs);
      boolean fits = switch (length) {
        case Length.Duration d -> busyUntil + TAIL_MS <= d.millis();
        case Length.Faults f -> injected < f.count();
      };
      if (!fits) {
        return List.copyOf(faults);
      }
      faults.addAll(step);
      injected++;
      at = next;
    }
  }

  private static Fault pick(SplittableRandom random, boolean partitions, Pace pace) {
    int roll = random.nextInt(partitions ? 100 : 85);
    if (roll < 30) {
      return new Fault.KillLeader();
    }
    if (roll < 48) {
      return new Fault.KillFollower(random.nextInt(8));
    }
    if (roll < 68) {
      return new Fault.PauseLeader(pace.pauseMinMs + random.nextLong(pace.pauseSpreadMs));
    }
    if (roll < 85) {
      return new Fault.PauseFollower(random.nextInt(8), pace.pauseMinMs + random.nextLong(pace.pauseSpreadMs));
    }
    if (roll < 93) {
      return new Fault.IsolateLeader(2_000 + random.nextLong(4_000));
    }
    return new Fault.SplitCluster(random.nextInt(8), 2_000 + random.nextLong(4_000));
  }

  /** Total length of a schedule: when its last fault ends (a restart counts as instant). */
  public static long endMillis(List<Fault.Timed> faults) {
    long end = 0;
    for (Fault.Timed t : faults) {
      long length = switch (t.fault()) {
        case Fault.PauseLeader p -> p.millis();
        case Fault.PauseFollower p -> p.millis();
        case Fault.IsolateLeader i -> i.millis();
        case Fault.SplitCluster s -> s.millis();
        default -> 0;
      };
      end = Math.max(end, t.atMillis() + length);
    }
    return end;
  }
}
