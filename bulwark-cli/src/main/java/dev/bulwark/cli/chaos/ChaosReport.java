package dev.bulwark.cli.chaos;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/**
 * What a chaos run found: faults by kind, operations by kind and outcome, reads that were
 * stale, failover times, and the violations, first one first. PASS when there are none.
 *
 * @param failoverMillis per leader fault kind, the time from each fault to the first confirmed write invoked after it
 * @param restarts how long restarted replicas took to catch up, when the run restarted any
 */
public record ChaosReport(Map<String, Integer> faults, Map<String, Map<History.Outcome, Integer>> operations,
    int staleReads, long maxStaleBatches, Map<String, List<Long>> failoverMillis, List<String> violations,
    List<String> notes, Restarts restarts) {

  /**
   * Restarts of killed replicas: for each one that caught up, the time from its restart until
   * it had applied the log to close behind the leader; and how many did not within the wait.
   * A replica out for that long leaves the cluster one failure from a standstill, and in a long
   * run restarts take most of the time.
   */
  public record Restarts(List<Long> caughtUpMillis, int notCaughtUp, long waitMillis) {
    public static final Restarts NONE = new Restarts(List.of(), 0, 0);

    public Restarts {
      caughtUpMillis = List.copyOf(caughtUpMillis);
    }
  }

  public ChaosReport {
    faults = Map.copyOf(faults);
    operations = Map.copyOf(operations);
    failoverMillis = Map.copyOf(failoverMillis);
    violations = List.copyOf(violations);
    notes = List.copyOf(notes);
  }

  /** A report of what the history shows, before the runner adds what only it saw. */
  public ChaosReport(Map<String, Integer> faults, Map<String, Map<History.Outcome, Integer>> operations, int staleReads,
      long maxStaleBatches, Map<String, List<Long>> failoverMillis, List<String> violations, List<String> notes) {
    this(faults, operations, staleReads, maxStaleBatches, failoverMillis, violations, notes, Restarts.NONE);
  }

  public boolean passed() {
    return violations.isEmpty();
  }

  /** The p-th percentile (0 to 100) of a non-empty list, nearest rank. */
  static long percentile(List<Long> values, int p) {
    List<Long> sorted = values.stream().sorted().toList();
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, rank - 1));
  }

  /** "n=.. p50 .. ms p90 .. ms max .. ms" of a non-empty list of milliseconds. */
  private static String spread(List<Long> millis) {
    return String.format("n=%d  p50 %,d ms  p90 %,d ms  max %,d ms", millis.size(), percentile(millis, 50),
        percentile(millis, 90), millis.stream().mapToLong(Long::longValue).max().orElseThrow());
  }

  public void print(PrintWriter out) {
    out.println("faults injected:");
    if (faults.isEmpty()) {
      out.println("  none");
    }
    new java.util.TreeMap<>(faults).forEach((kind, n) -> out.printf("  %-18s %,6d%n", kind, n));
    out.println("operations:");
    out.printf("  %-10s %8s %8s %8s %8s %8s%n", "", "ok", "failed", "not-comm", "unknown", "invalid");
    new java.util.TreeMap<>(operations).forEach((kind, byOutcome) -> out.printf("  %-10s %,8d %,8d %,8d %,8d %,8d%n", kind,
        byOutcome.getOrDefault(History.Outcome.OK, 0), byOutcome.getOrDefault(History.Outcome.FAILED, 0),
        byOutcome.getOrDefault(History.Outcome.NOT_COMMITTED, 0), byOutcome.getOrDefault(History.Outcome.UNKNOWN, 0),
        byOutcome.getOrDefault(History.Outcome.INVALID_PROOF, 0)));
    out.printf("stale reads (proven under a head older than a write confirmed before the read began): %,d%s%n", staleReads,
        staleReads > 0 ? " (at most " + maxStaleBatches + " batches behind)" : "");
    out.println("failover (fault to the first confirmed write invoked after it):");
    if (failoverMillis.isEmpty()) {
      out.println("  no leader fault");
    }
    new java.util.TreeMap<>(failoverMillis).forEach((kind, times) -> {
      if (times.isEmpty()) {
        out.printf("  %-18s no confirmation followed%n", kind);
      } else {
        out.printf("  %-18s %s%n", kind, spread(times));
      }
    });
    List<Long> back = restarts.caughtUpMillis();
    if (!back.isEmpty() || restarts.notCaughtUp() > 0) {
      out.print("restarts (restart to caught up with the leader):");
      if (!back.isEmpty()) {
        out.print(" " + spread(back));
      }
      if (restarts.notCaughtUp() > 0) {
        out.printf("%s%d not within %,d s", back.isEmpty() ? " " : "; ", restarts.notCaughtUp(),
            restarts.waitMillis() / 1000);
      }
      out.println();
    }
    notes.forEach(n -> out.println("note: " + n));
    if (passed()) {
      out.println("PASS");
    } else {
      out.printf("FAIL: %d violation%s; the first: %s%n", violations.size(), violations.size() == 1 ? "" : "s",
          violations.getFirst());
      violations.stream().skip(1).limit(9).forEach(v -> out.println("  also: " + v));
    }
  }
}
