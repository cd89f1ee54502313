package dev.bulwark.cli.chaos;

import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.ReceiptJson;
import dev.bulwark.core.receipt.Verification;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Judges a chaos run from its history and the healed cluster's final state alone, as a pure
 * function, so that every rule can be tested with hand-made histories. The rules, in the order
 * their violations are reported: the replicas agree (applied index, state digest, heads); no
 * operation is applied twice or without a client asking; a confirmed write is applied, in the
 * batch its receipt names; a refused or not-committed one is not; replaying the applied
 * operations never makes a balance negative, gives the final balances, the balances clients
 * were told, and a total equal to deposits minus withdrawals; every receipt verifies and no two
 * heads seen for one batch differ (no fork); every read returns the balance the applied history
 * gives at the head it was proven under; and, for linearizable reads, that head is not older
 * than a write to the account confirmed before the read began.
 */
public final class Checker {
  private Checker() {}

  /**
   * What a read must show. {@code SNAPSHOT}: exactly the state at the signed head it is proven
   * under, which may be behind (what the client's reads guarantee: they ask the replica the
   * client believes leads, with no leadership check); stale reads are counted, not failed.
   * {@code LINEARIZABLE}: also every write confirmed before the read began.
   */
  public enum ReadRule { SNAPSHOT, LINEARIZABLE }

  /** Fault kinds that take the leader away: the time to the next confirmed write is a failover. */
  static final Set<String> LEADER_FAULTS = Set.of("kill-leader", "pause-leader", "partition-leader");

  private record Call(History.Invoke invoke, Optional<History.Complete> complete) {
    History.Completion completion() {
      return complete.map(History.Complete::completion)
          .orElse(History.Completion.of(History.Outcome.UNKNOWN, "no completion recorded"));
    }

    String describe() {
      return invoke.process() + "#" + invoke.id() + " " + invoke.op().key();
    }
  }

  /**
   * What is wrong with a completion's receipt, if anything: it does not parse, does not verify
   * against the operator key, or names another batch than the completion.
   */
  static Optional<String> receiptProblem(History.Completion x, PublicKey operatorKey) {
    if (x.receipt().isEmpty()) {
      return Optional.empty();
    }
    try {
      Receipt receipt = ReceiptJson.readReceipt(x.receipt().get());
      if (receipt.verify(operatorKey) instanceof Verification.Invalid invalid) {
        return Optional.of("receipt does not verify: " + invalid.failedCheck());
      }
      if (x.batch() >= 0 && receipt.confirmation().batchNumber() != x.batch()) {
        return Optional.of("receipt names batch " + receipt.confirmation().batchNumber() + ", not " + x.batch());
      }
      return Optional.empty();
    } catch (RuntimeException e) {
      return Optional.of("receipt unreadable: " + e.getMessage());
    }
  }

  /**
   * For {@link History#read(java.nio.file.Path, java.util.function.UnaryOperator)}: drops each
   * receipt that verifies as it is read, keeping only those {@link #check} will report (without
   * an operator key, none is checked, so all go). A receipt is checked once either way.
   */
  public static java.util.function.UnaryOperator<History.Completion> dropVerifiedReceipts(
      Optional<PublicKey> operatorKey) {
    return x -> operatorKey.isEmpty() || receiptProblem(x, operatorKey.get()).isEmpty() ? x.withoutReceipt() : x;
  }

  public static ChaosReport check(List<History.Event> history, FinalState state, Optional<PublicKey> operatorKey,
      ReadRule rule) {
    List<String> violations = new ArrayList<>();
    List<String> notes = new ArrayList<>();

    Map<Long, History.Invoke> invokes = new LinkedHashMap<>();
    Map<Long, History.Complete> completes = new HashMap<>();
    List<History.FaultEvent> faults = new ArrayList<>();
    for (History.Event e : history) {
      switch (e) {
        case History.Invoke i -> invokes.put(i.id(), i);
        case History.Complete c -> completes.put(c.id(), c);
        case History.FaultEvent f -> faults.add(f);
      }
    }
    List<Call> calls = new ArrayList<>();
    invokes.values().forEach(i -> calls.add(new Call(i, Optional.ofNullable(completes.get(i.id())))));

    Map<String, Map<History.Outcome, Integer>> operations = new TreeMap<>();
    for (Call c : calls) {
      operations.computeIfAbsent(opName(c.invoke().op()), k -> new java.util.EnumMap<>(History.Outcome.class))
          .merge(c.completion().outcome(), 1, Integer::sum);
    }

    // The replicas agree.
    Optional<FinalState.Replica> reference = state.replicas().stream().filter(r -> r.status().isPresent())
        .max(Comparator.comparingInt(r -> r.heads().size()));
    for (FinalState.Replica r : state.replicas()) {
      if (r.status().isEmpty()) {
        violations.add("replica " + r.id() + " did not answer after the faults healed");
      }
    }
    if (reference.isPresent()) {
      FinalState.Replica ref = reference.get();
      FinalState.Status rs = ref.status().orElseThrow();
      for (FinalState.Replica r : state.replicas()) {
        if (r == ref || r.status().isEmpty()) {
          continue;
        }
        FinalState.Status s = r.status().get();
        if (s.appliedIndex() != rs.appliedIndex()) {
          // Behind, not (yet) different: the cluster did not bring every replica up to date after healing.
          violations.add(String.format("replicas did not converge: %s applied log index %d, %s applied %d", ref.id(),
              rs.appliedIndex(), r.id(), s.appliedIndex()));
        } else if (!s.stateDigest().equals(rs.stateDigest())) {
          violations.add(String.format("replicas diverge: %s and %s both applied log index %d with different state "
              + "digests (%s, %s)", ref.id(), r.id(), s.appliedIndex(), rs.stateDigest(), s.stateDigest()));
        }
        for (Map.Entry<Long, String> h : new TreeMap<>(r.heads()).entrySet()) {
          String other = ref.heads().get(h.getKey());
          if (other != null && !other.equals(h.getValue())) {
            violations.add(String.format("fork: %s and %s hold different signed heads for batch %d", ref.id(), r.id(),
                h.getKey()));
            break;
          }
        }
        long refLatest = ref.heads().keySet().stream().mapToLong(Long::longValue).max().orElse(-1);
        long latest = r.heads().keySet().stream().mapToLong(Long::longValue).max().orElse(-1);
        if (refLatest != latest) {
          violations.add(String.format("replicas did not converge: the latest signed head of %s is batch %d, of %s batch %d",
              ref.id(), refLatest, r.id(), latest));
        }
        if (r.heads().size() < ref.heads().size()) {
          notes.add(r.id() + " holds " + r.heads().size() + " of " + ref.heads().size()
              + " heads (older ones not kept, e.g. after installing a snapshot)");
        }
      }
    }

    // Applied operations: each once, each asked for. Without the ledger, the checks of writes,
    // balances and read values cannot be made; the run fails, and says so first among these.
    boolean ledgerRead = state.ledgerUnreadable().isEmpty();
    state.ledgerUnreadable().ifPresent(why -> violations.add("the ledger could not be read after the faults healed ("
        + why + "): writes, balances and the values of reads were not checked"));
    List<FinalState.Applied> applied = state.applied().stream()
        .sorted(Comparator.comparingLong(FinalState.Applied::batch).thenComparingInt(FinalState.Applied::index)).toList();
    Map<String, List<FinalState.Applied>> appliedByKey = new HashMap<>();
    applied.forEach(a -> appliedByKey.computeIfAbsent(a.op().key(), k -> new ArrayList<>()).add(a));
    Map<String, List<Call>> writesByKey = new HashMap<>();
    calls.stream().filter(c -> !(c.invoke().op() instanceof History.Read))
        .forEach(c -> writesByKey.computeIfAbsent(c.invoke().op().key(), k -> new ArrayList<>()).add(c));
    for (FinalState.Applied a : applied) {
      List<FinalState.Applied> same = appliedByKey.get(a.op().key());
      if (same.size() > 1 && same.getFirst() == a) {
        violations.add(String.format("applied twice: %s in batch %d and in batch %d", a.op().key(), same.get(0).batch(),
            same.get(1).batch()));
      }
      if (!writesByKey.containsKey(a.op().key())) {
        violations.add(String.format("applied but never asked for: %s in batch %d", a.op().key(), a.batch()));
      }
    }
    for (Call c : calls) {
      if (c.invoke().op() instanceof History.Read
          || (!ledgerRead && c.completion().outcome() != History.Outcome.INVALID_PROOF)) {
        continue;
      }
      History.Completion x = c.completion();
      List<FinalState.Applied> found = appliedByKey.getOrDefault(c.invoke().op().key(), List.of());
      switch (x.outcome()) {
        case OK -> {
          if (found.isEmpty()) {
            violations.add(String.format("lost write: %s was confirmed in batch %d but is not applied", c.describe(),
                x.batch()));
          } else if (x.batch() >= 0 && found.getFirst().batch() != x.batch()) {
            violations.add(String.format("%s was confirmed in batch %d but applied in batch %d", c.describe(), x.batch(),
                found.getFirst().batch()));
          }
        }
        case FAILED, NOT_COMMITTED -> {
          if (!found.isEmpty()) {
            violations.add(String.format("%s was answered %s (%s) but is applied, in batch %d", c.describe(),
                x.outcome().label(), x.detail(), found.getFirst().batch()));
          }
        }
        case INVALID_PROOF -> violations.add(String.format("%s: its receipt did not verify: %s", c.describe(), x.detail()));
        case UNKNOWN -> { }
      }
    }

    // Replay: balances never negative; the final ones, the ones clients were told, the total.
    Map<String, Long> balances = new HashMap<>();
    Map<String, TreeMap<Long, Long>> balanceAtBatch = new HashMap<>();
    Map<String, Long> balanceAfter = new HashMap<>();
    long deposits = 0;
    long withdrawals = 0;
    for (FinalState.Applied a : applied) {
      List<String> touched = new ArrayList<>();
      switch (a.op()) {
        case History.Open o -> {
          if (balances.containsKey(o.account())) {
            violations.add("account " + o.account() + " opened twice (again in batch " + a.batch() + ")");
          }
          balances.put(o.account(), 0L);
          touched.add(o.account());
        }
        case History.Deposit d -> {
          balances.merge(d.account(), d.amount(), Long::sum);
          deposits += d.amount();
          touched.add(d.account());
        }
        case History.Withdraw w -> {
          balances.merge(w.account(), -w.amount(), Long::sum);
          withdrawals += w.amount();
          touched.add(w.account());
        }
        case History.Transfer t -> {
          balances.merge(t.from(), -t.amount(), Long::sum);
          balances.merge(t.to(), t.amount(), Long::sum);
          touched.add(t.from());
          touched.add(t.to());
        }
        case History.Read r -> violations.add("a read appears among the applied operations: " + r.key());
      }
      for (String account : touched) {
        long b = balances.get(account);
        if (b < 0) {
          violations.add(String.format("negative balance: %s has %d after %s in batch %d", account, b, a.op().key(),
              a.batch()));
        }
        balanceAtBatch.computeIfAbsent(account, k -> new TreeMap<>()).put(a.batch(), b);
      }
      if (!touched.isEmpty()) {
        balanceAfter.put(a.op().key(), balances.get(touched.getFirst()));
      }
    }
    for (String account : new TreeSet<>(union(balances.keySet(), state.balances().keySet()))) {
      Long replayed = balances.get(account);
      Long reported = state.balances().get(account);
      if (!java.util.Objects.equals(replayed, reported)) {
        violations.add(String.format("final balance of %s is %s, the applied operations give %s", account,
            reported == null ? "absent" : reported, replayed == null ? "absent" : replayed));
      }
    }
    long total = state.balances().values().stream().mapToLong(Long::longValue).sum();
    if (total != deposits - withdrawals) {
      violations.add(String.format("money created or destroyed: the balances total %d, deposits minus withdrawals is %d",
          total, deposits - withdrawals));
    }
    for (Call c : calls) {
      History.Completion x = c.completion();
      if (c.invoke().op() instanceof History.Read || x.outcome() != History.Outcome.OK || x.balance() < 0) {
        continue;
      }
      Long replayed = balanceAfter.get(c.invoke().op().key());
      if (replayed != null && replayed != x.balance()) {
        violations.add(String.format("%s was told the balance is %d after it, the applied operations give %d",
            c.describe(), x.balance(), replayed));
      }
    }

    // Receipts verify; heads seen by clients agree with each other and with the replicas' chain.
    Map<Long, String> seen = new HashMap<>();
    for (Call c : calls) {
      History.Completion x = c.completion();
      if (x.receipt().isPresent() && operatorKey.isPresent()) {
        receiptProblem(x, operatorKey.get()).ifPresent(problem -> violations.add(c.describe() + ": " + problem));
      }
      if (x.head().isPresent()) {
        History.HeadRef h = x.head().get();
        String before = seen.putIfAbsent(h.batch(), h.hash());
        if (before != null && !before.equals(h.hash())) {
          violations.add(String.format("fork: clients saw two different signed heads for batch %d (%s..., %s...)",
              h.batch(), abbreviate(before), abbreviate(h.hash())));
        }
        String chain = reference.map(r -> r.heads().get(h.batch())).orElse(null);
        if (chain != null && !chain.equals(h.hash())) {
          violations.add(String.format("fork: %s saw a signed head for batch %d that is not the replicas' (%s... vs %s...)",
              c.describe(), h.batch(), abbreviate(h.hash()), abbreviate(chain)));
        }
      }
    }

    // Reads: exact at their head; stale if older than a write confirmed before they began.
    Map<String, List<long[]>> confirmedWrites = new HashMap<>(); // account -> (completed at, batch)
    for (Call c : calls) {
      History.Completion x = c.completion();
      if (x.outcome() != History.Outcome.OK || x.batch() < 0 || c.complete().isEmpty()) {
        continue;
      }
      for (String account : accounts(c.invoke().op())) {
        confirmedWrites.computeIfAbsent(account, k -> new ArrayList<>()).add(new long[] {c.complete().get().micros(), x.batch()});
      }
    }
    Map<String, TreeMap<Long, Long>> requiredBatch = new HashMap<>(); // account -> completed at -> max batch so far
    confirmedWrites.forEach((account, list) -> {
      list.sort(Comparator.comparingLong(w -> w[0]));
      TreeMap<Long, Long> prefix = new TreeMap<>();
      long max = -1;
      for (long[] w : list) {
        max = Math.max(max, w[1]);
        prefix.put(w[0], max);
      }
      requiredBatch.put(account, prefix);
    });
    int stale = 0;
    long maxStale = 0;
    for (Call c : calls) {
      if (!(c.invoke().op() instanceof History.Read read) || c.completion().outcome() != History.Outcome.OK
          || c.completion().head().isEmpty()) {
        continue;
      }
      History.Completion x = c.completion();
      long at = x.head().get().batch();
      var known = balanceAtBatch.getOrDefault(read.account(), new TreeMap<>()).floorEntry(at);
      long expected = known == null ? -1 : known.getValue();
      if (ledgerRead && x.balance() != expected) {
        violations.add(String.format("%s returned %s under the head of batch %d; the applied operations give %s there",
            c.describe(), x.balance() < 0 ? "no account" : Long.toString(x.balance()), at,
            expected < 0 ? "no account" : Long.toString(expected)));
      }
      var required = requiredBatch.getOrDefault(read.account(), new TreeMap<>()).lowerEntry(c.invoke().micros());
      if (required != null && required.getValue() > at) {
        stale++;
        maxStale = Math.max(maxStale, required.getValue() - at);
        if (rule == ReadRule.LINEARIZABLE) {
          violations.add(String.format("stale read: %s began after a write in batch %d was confirmed, but was proven "
              + "under the head of batch %d", c.describe(), required.getValue(), at));
        }
      }
    }

    // Faults by kind, and failover times: from a leader fault to the first confirmation of a
    // write invoked after it. (A write confirmed just after the fault may have been committed, its
    // answer in flight, before it: the first confirmation of any write would show "failovers" of
    // a few milliseconds.) Writes sorted by invocation; a write invoked later than the best
    // confirmation found so far cannot beat it.
    Map<String, Integer> faultCounts = new TreeMap<>();
    List<long[]> writes = new ArrayList<>();
    for (Call c : calls) {
      if (!(c.invoke().op() instanceof History.Read) && c.completion().outcome() == History.Outcome.OK
          && c.complete().isPresent()) {
        writes.add(new long[] {c.invoke().micros(), c.complete().get().micros()});
      }
    }
    writes.sort(java.util.Comparator.comparingLong(w -> w[0]));
    long[] invoked = writes.stream().mapToLong(w -> w[0]).toArray();
    Map<String, List<Long>> failovers = new TreeMap<>();
    for (History.FaultEvent f : faults) {
      boolean skipped = f.detail().startsWith("skipped");
      faultCounts.merge(skipped ? f.kind() + " (skipped)" : f.kind(), 1, Integer::sum);
      if (skipped || !LEADER_FAULTS.contains(f.kind())) {
        continue;
      }
      List<Long> times = failovers.computeIfAbsent(f.kind(), k -> new ArrayList<>());
      int i = java.util.Arrays.binarySearch(invoked, f.micros());
      int next = i >= 0 ? i : -i - 1;
      while (next < invoked.length && invoked[next] <= f.micros()) {
        next++;
      }
      long best = Long.MAX_VALUE;
      for (int w = next; w < writes.size() && writes.get(w)[0] < best; w++) {
        best = Math.min(best, writes.get(w)[1]);
      }
      if (best != Long.MAX_VALUE) {
        times.add((best - f.micros()) / 1_000);
      } else {
        notes.add("no write invoked after the " + f.kind() + " at " + f.micros() / 1_000 + " ms was confirmed");
      }
    }
    return new ChaosReport(faultCounts, operations, stale, maxStale, failovers, violations, notes);
  }

  private static String opName(History.Op op) {
    return switch (op) {
      case History.Open o -> "open";
      case History.Deposit d -> "deposit";
      case History.Withdraw w -> "withdraw";
      case History.Transfer t -> "transfer";
      case History.Read r -> "read";
    };
  }

  private static List<String> accounts(History.Op op) {
    return switch (op) {
      case History.Open o -> List.of(o.account());
      case History.Deposit d -> List.of(d.account());
      case History.Withdraw w -> List.of(w.account());
      case History.Transfer t -> List.of(t.from(), t.to());
      case History.Read r -> List.of();
    };
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> all = new java.util.HashSet<>(a);
    all.addAll(b);
    return all;
  }

  private static String abbreviate(String hex) {
    return hex.length() <= 12 ? hex : hex.substring(0, 12);
  }
}
