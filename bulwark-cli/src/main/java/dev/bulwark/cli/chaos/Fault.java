package dev.bulwark.cli.chaos;

/**
 * One fault the injector causes. Targets are named by role ("the leader", "follower number
 * {@code pick} in id order"), not by replica id, because who leads is only known when the fault
 * happens; the schedule stays a pure function of the seed.
 */
public sealed interface Fault {
  /** The kind's name in reports and in the history file. */
  String kind();

  /** SIGKILL of the replica that leads at the time. */
  record KillLeader() implements Fault {
    @Override public String kind() {
      return "kill-leader";
    }
  }

  /** SIGKILL of a follower: the {@code pick}-th (modulo their number) in id order. */
  record KillFollower(int pick) implements Fault {
    @Override public String kind() {
      return "kill-follower";
    }
  }

  /** SIGSTOP of the leader, SIGCONT {@code millis} later. */
  record PauseLeader(long millis) implements Fault {
    @Override public String kind() {
      return "pause-leader";
    }
  }

  /** SIGSTOP of a follower, SIGCONT {@code millis} later. */
  record PauseFollower(int pick, long millis) implements Fault {
    @Override public String kind() {
      return "pause-follower";
    }
  }

  /** Start again every replica killed so far, from its own directory. */
  record RestartKilled() implements Fault {
    @Override public String kind() {
      return "restart";
    }
  }

  /** Cut every link between the leader and the others for {@code millis}, then heal (needs root). */
  record IsolateLeader(long millis) implements Fault {
    @Override public String kind() {
      return "partition-leader";
    }
  }

  /** Split the replicas into a majority and a minority (follower {@code pick} with the leader) for {@code millis}. */
  record SplitCluster(int pick, long millis) implements Fault {
    @Override public String kind() {
      return "partition-split";
    }
  }

  /** A fault at {@code atMillis} after the workload starts. */
  record Timed(long atMillis, Fault fault) {
    public Timed {
      if (atMillis < 0) {
        throw new IllegalArgumentException("a fault happens at or after the start, not at " + atMillis + " ms");
      }
    }

    @Override public String toString() {
      return String.format("%7.1f s  %s", atMillis / 1000.0, describe(fault));
    }
  }

  /** One line for people: the kind and its parameters. */
  static String describe(Fault fault) {
    return switch (fault) {
      case KillLeader k -> "SIGKILL the leader";
      case KillFollower k -> "SIGKILL follower #" + k.pick();
      case PauseLeader p -> "SIGSTOP the leader for " + p.millis() + " ms";
      case PauseFollower p -> "SIGSTOP follower #" + p.pick() + " for " + p.millis() + " ms";
      case RestartKilled r -> "restart the killed replicas";
      case IsolateLeader i -> "isolate the leader for " + i.millis() + " ms";
      case SplitCluster s -> "split the cluster (leader with follower #" + s.pick() + ") for " + s.millis() + " ms";
    };
  }
}
