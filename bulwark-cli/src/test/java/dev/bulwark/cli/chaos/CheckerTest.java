package dev.bulwark.cli.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.cli.chaos.History.Complete;
import dev.bulwark.cli.chaos.History.Completion;
import dev.bulwark.cli.chaos.History.Event;
import dev.bulwark.cli.chaos.History.HeadRef;
import dev.bulwark.cli.chaos.History.Invoke;
import dev.bulwark.cli.chaos.History.Op;
import dev.bulwark.cli.chaos.History.Outcome;
import dev.bulwark.core.Digest;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.receipt.Confirmation;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.ReceiptJson;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The checker on hand-made histories: a clean one passes, and each kind of violation (a lost
 * write, a double apply, a refused write applied, a fork, a negative balance, money created, a
 * wrong or stale read, diverging replicas) fails with that violation named first.
 */
class CheckerTest {
  /** Builds a history and the matching final state; the heads are "h" + batch unless forked. */
  static final class Scenario {
    final List<Event> events = new ArrayList<>();
    final List<FinalState.Applied> applied = new ArrayList<>();
    final Map<String, Long> balances = new HashMap<>();
    final Map<Long, String> heads = new HashMap<>();
    long clock;
    long ids;

    /** An operation the cluster applied in {@code batch} and confirmed to the client. */
    Scenario ok(Op op, long batch, long balanceAfter) {
      long id = ++ids;
      events.add(new Invoke(clock += 10, "w", id, op));
      events.add(new Complete(clock += 10, "w", id, new Completion(Outcome.OK, batch, balanceAfter, "",
          Optional.of(new HeadRef(batch, "h" + batch)), Optional.empty())));
      applied.add(new FinalState.Applied(batch, applied.size(), op));
      heads.put(batch, "h" + batch);
      return this;
    }

    Scenario answered(Op op, Outcome outcome) {
      long id = ++ids;
      events.add(new Invoke(clock += 10, "w", id, op));
      events.add(new Complete(clock += 10, "w", id, Completion.of(outcome, "test")));
      return this;
    }

    Scenario read(String account, long headBatch, long balance) {
      long id = ++ids;
      events.add(new Invoke(clock += 10, "r", id, new History.Read(account)));
      events.add(new Complete(clock += 10, "r", id, new Completion(Outcome.OK, -1, balance, "",
          Optional.of(new HeadRef(headBatch, "h" + headBatch)), Optional.empty())));
      return this;
    }

    Scenario fault(String kind) {
      events.add(new History.FaultEvent(clock += 10, kind, "r1", "SIGKILL"));
      return this;
    }

    FinalState state() {
      return state(heads, heads);
    }

    FinalState state(Map<Long, String> r1Heads, Map<Long, String> r2Heads) {
      long last = applied.size();
      return new FinalState(List.of(
          new FinalState.Replica("r1", Optional.of(new FinalState.Status(last, last, "d")), r1Heads),
          new FinalState.Replica("r2", Optional.of(new FinalState.Status(last, last, "d")), r2Heads)),
          applied, balances);
    }

    ChaosReport check(Checker.ReadRule rule) {
      return Checker.check(events, state(), Optional.empty(), rule);
    }

    ChaosReport check() {
      return check(Checker.ReadRule.SNAPSHOT);
    }
  }

  /** Two accounts funded with 100 each, a transfer of 30 from a to b: balances a 70, b 130. */
  static Scenario clean() {
    Scenario s = new Scenario();
    s.ok(new History.Open("a"), 1, 0).ok(new History.Open("b"), 1, 0)
        .ok(new History.Deposit("a", 100, "d1"), 2, 100).ok(new History.Deposit("b", 100, "d2"), 2, 100)
        .fault("kill-leader")
        .ok(new History.Transfer("a", "b", 30, 1), 3, 70)
        .read("a", 3, 70).read("b", 3, 130);
    s.balances.put("a", 70L);
    s.balances.put("b", 130L);
    return s;
  }

  @Test
  void theHtmlReportMarksEveryFaultOnTheTimeline() {
    Scenario s = clean();
    s.fault("pause-follower");
    String html = ChaosHtml.render(s.events, s.check(), 42);
    assertThat(html).startsWith("<!doctype html>").contains("bulwark chaos, seed 42", "PASS", "latency histogram")
        .doesNotContain("<script");
    assertThat(html.split("<line class=\"fault\"", -1)).hasSize(3);
    assertThat(html).contains("kill-leader r1 at", "pause-follower r1 at");
  }

  @Test
  void aConsistentHistoryPasses() {
    ChaosReport report = clean().check();
    assertThat(report.violations()).isEmpty();
    assertThat(report.passed()).isTrue();
    assertThat(report.faults()).containsEntry("kill-leader", 1);
    assertThat(report.failoverMillis().get("kill-leader")).containsExactly(0L); // 20 µs rounds down to 0 ms
    assertThat(report.operations().get("transfer")).containsEntry(Outcome.OK, 1);
    StringWriter text = new StringWriter();
    report.print(new PrintWriter(text, true));
    assertThat(text.toString()).contains("PASS").contains("kill-leader");
  }

  @Test
  void anUnknownOutcomeMayBeAppliedOnceOrNotAtAll() {
    Scenario s = clean();
    s.answered(new History.Transfer("a", "b", 5, 2), Outcome.UNKNOWN);
    assertThat(s.check().violations()).isEmpty();
    s.applied.add(new FinalState.Applied(4, 0, new History.Transfer("a", "b", 5, 2)));
    s.balances.put("a", 65L);
    s.balances.put("b", 135L);
    assertThat(s.check().violations()).isEmpty();
  }

  @Test
  void aConfirmedWriteThatIsNotAppliedIsALostWrite() {
    Scenario s = clean();
    s.applied.removeIf(a -> a.op() instanceof History.Transfer);
    s.balances.put("a", 100L);
    s.balances.put("b", 100L);
    ChaosReport report = s.check();
    assertThat(report.passed()).isFalse();
    assertThat(report.violations().getFirst()).startsWith("lost write").contains("transfer:a:1:b:30");
  }

  @Test
  void anOperationAppliedTwiceFails() {
    Scenario s = clean();
    s.applied.add(new FinalState.Applied(4, 0, new History.Deposit("a", 100, "d1")));
    s.balances.put("a", 170L);
    assertThat(s.check().violations().getFirst()).startsWith("applied twice: deposit:d1");
  }

  @Test
  void aRefusedOrNotCommittedWriteMustBeAbsent() {
    for (Outcome outcome : List.of(Outcome.FAILED, Outcome.NOT_COMMITTED)) {
      Scenario s = clean();
      s.answered(new History.Deposit("b", 7, "d3"), outcome);
      s.applied.add(new FinalState.Applied(4, 0, new History.Deposit("b", 7, "d3")));
      s.balances.put("b", 137L);
      assertThat(s.check().violations().getFirst()).contains("deposit:d3 was answered " + outcome.name()
          .toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
    }
  }

  @Test
  void anOperationNobodyAskedForFails() {
    Scenario s = clean();
    s.applied.add(new FinalState.Applied(4, 0, new History.Deposit("b", 7, "phantom")));
    s.balances.put("b", 137L);
    assertThat(s.check().violations().getFirst()).startsWith("applied but never asked for: deposit:phantom");
  }

  @Test
  void aNegativeBalanceFails() {
    Scenario s = clean();
    s.ok(new History.Withdraw("a", 90, "w1"), 4, -20);
    s.balances.put("a", -20L);
    assertThat(s.check().violations().getFirst()).startsWith("negative balance: a has -20");
  }

  @Test
  void finalBalancesThatDoNotAddUpFail() {
    Scenario s = clean();
    s.balances.put("b", 131L);
    List<String> violations = s.check().violations();
    assertThat(violations.getFirst()).startsWith("final balance of b is 131");
    assertThat(violations).anyMatch(v -> v.startsWith("money created or destroyed"));
  }

  @Test
  void aBalanceToldToTheClientMustMatchTheReplay() {
    Scenario s = clean();
    s.ok(new History.Deposit("b", 1, "d9"), 4, 999);
    s.balances.put("b", 131L);
    assertThat(s.check().violations().getFirst()).contains("was told the balance is 999").contains("give 131");
  }

  @Test
  void aForkSeenByClientsFails() {
    Scenario s = clean();
    long id = ++s.ids;
    s.events.add(new Invoke(s.clock += 10, "r", id, new History.Read("a")));
    s.events.add(new Complete(s.clock += 10, "r", id, new Completion(Outcome.OK, -1, 70, "",
        Optional.of(new HeadRef(3, "other")), Optional.empty())));
    assertThat(s.check().violations().getFirst()).startsWith("fork: clients saw two different signed heads for batch 3");
  }

  @Test
  void replicasWithDifferentHeadsFail() {
    Scenario s = clean();
    Map<Long, String> forked = new HashMap<>(s.heads);
    forked.put(2L, "x");
    ChaosReport report = Checker.check(s.events, s.state(s.heads, forked), Optional.empty(), Checker.ReadRule.SNAPSHOT);
    assertThat(report.violations().getFirst()).startsWith("fork: r1 and r2 hold different signed heads for batch 2");
  }

  @Test
  void replicasThatDivergeFail() {
    Scenario s = clean();
    FinalState base = s.state();
    FinalState diverged = new FinalState(List.of(base.replicas().getFirst(),
        new FinalState.Replica("r2", Optional.of(new FinalState.Status(s.applied.size(), s.applied.size(), "other")), s.heads)), base.applied(),
        base.balances());
    assertThat(Checker.check(s.events, diverged, Optional.empty(), Checker.ReadRule.SNAPSHOT).violations().getFirst())
        .contains("different state digests");
    FinalState behind = new FinalState(List.of(base.replicas().getFirst(),
        new FinalState.Replica("r2", Optional.of(new FinalState.Status(s.applied.size() - 1, s.applied.size() - 1, "d")),
            s.heads)), base.applied(), base.balances());
    assertThat(Checker.check(s.events, behind, Optional.empty(), Checker.ReadRule.SNAPSHOT).violations().getFirst())
        .startsWith("replicas did not converge: r1 applied log index " + s.applied.size() + ", r2 applied "
            + (s.applied.size() - 1));
    FinalState silent = new FinalState(List.of(base.replicas().getFirst(),
        new FinalState.Replica("r2", Optional.empty(), Map.of())), base.applied(), base.balances());
    assertThat(Checker.check(s.events, silent, Optional.empty(), Checker.ReadRule.SNAPSHOT).violations().getFirst())
        .startsWith("replica r2 did not answer");
  }

  @Test
  void anUnreadableLedgerFailsTheRunOnceAndKeepsTheChecksThatNeedOnlyTheHistory() {
    Scenario s = clean();
    s.answered(new History.Transfer("b", "a", 5, 1), Outcome.INVALID_PROOF);
    FinalState state = FinalState.ledgerUnreadable(s.state().replicas(), "no answer to query 'history' within 30000 ms");
    ChaosReport report = Checker.check(s.events, state, Optional.empty(), Checker.ReadRule.SNAPSHOT);
    assertThat(report.passed()).isFalse();
    // Not one "lost write" per confirmed write, nor a wrong read per read: the ledger was not seen.
    assertThat(report.violations()).containsExactly(
        "the ledger could not be read after the faults healed (no answer to query 'history' within 30000 ms): "
            + "writes, balances and the values of reads were not checked",
        "w#8 transfer:b:1:a:5: its receipt did not verify: test");
    assertThat(report.failoverMillis().get("kill-leader")).hasSize(1);
  }

  @Test
  void aReadMustShowTheStateAtItsHead() {
    Scenario s = clean();
    s.read("a", 3, 100); // batch 3 holds the transfer: a has 70 there
    assertThat(s.check().violations().getFirst()).contains("returned 100 under the head of batch 3")
        .contains("give 70 there");
  }

  @Test
  void aStaleReadIsCountedAndFailsOnlyWhenReadsMustBeLinearizable() {
    Scenario s = clean();
    s.read("a", 2, 100); // began after the transfer (batch 3) was confirmed, proven under batch 2's head
    ChaosReport snapshot = s.check(Checker.ReadRule.SNAPSHOT);
    assertThat(snapshot.passed()).isTrue();
    assertThat(snapshot.staleReads()).isEqualTo(1);
    assertThat(snapshot.maxStaleBatches()).isEqualTo(1);
    ChaosReport strict = s.check(Checker.ReadRule.LINEARIZABLE);
    assertThat(strict.violations().getFirst()).startsWith("stale read").contains("batch 3").contains("batch 2");
  }

  @Test
  void anInvalidReceiptFails() {
    Scenario s = clean();
    s.answered(new History.Deposit("b", 7, "d4"), Outcome.INVALID_PROOF);
    assertThat(s.check().violations().getFirst()).contains("deposit:d4: its receipt did not verify");
  }

  @Test
  void failoverIsTheTimeFromALeaderFaultToTheNextConfirmedWrite() {
    Scenario s = clean();
    s.events.add(new History.FaultEvent(s.clock += 1_000, "pause-leader", "r2", "SIGSTOP"));
    s.clock += 1_500_000; // 1.5 s
    s.ok(new History.Deposit("a", 1, "d5"), 4, 71);
    s.balances.put("a", 71L);
    ChaosReport report = s.check();
    assertThat(report.passed()).as(report.violations().toString()).isTrue();
    assertThat(report.failoverMillis().get("pause-leader")).containsExactly(1_500L);
  }

  @Test
  void anAnswerInFlightAtTheFaultIsNotAFailover() {
    Scenario s = clean();
    // A deposit invoked before the leader is paused, its answer arriving 1 ms after: committed
    // before the fault, so the failover lasts until the next write invoked after it is confirmed.
    s.events.add(new History.Invoke(s.clock += 10, "w2", 900, new History.Deposit("a", 1, "d6")));
    s.events.add(new History.FaultEvent(s.clock += 1_000, "pause-leader", "r2", "SIGSTOP"));
    s.events.add(new History.Complete(s.clock += 1_000, "w2", 900, new History.Completion(Outcome.OK, 4, 71, "",
        java.util.Optional.of(new History.HeadRef(4, "h4")), java.util.Optional.empty())));
    s.applied.add(new FinalState.Applied(4, s.applied.size(), new History.Deposit("a", 1, "d6")));
    s.heads.put(4L, "h4");
    s.clock += 800_000;
    s.ok(new History.Deposit("a", 1, "d7"), 5, 72);
    s.balances.put("a", 72L);
    ChaosReport report = s.check();
    assertThat(report.passed()).as(report.violations().toString()).isTrue();
    assertThat(report.failoverMillis().get("pause-leader")).containsExactly(801L);
  }

  @Test
  void receiptsThatVerifyAreDroppedAsTheHistoryIsReadAndBadOnesStayToBeReported() throws Exception {
    SigningKey operator = SigningKey.generate(new SplittableRandom(5));
    SigningKey impostor = SigningKey.generate(new SplittableRandom(6));
    Scenario s = new Scenario();
    s.ok(new History.Open("a"), 1, 0).ok(new History.Open("b"), 1, 0).ok(new History.Open("c"), 1, 0);
    List.of("a", "b", "c").forEach(account -> s.balances.put(account, 0L));
    List<String> receipts = List.of(receipt(operator, 1), receipt(impostor, 1), "{\"format\": \"nonsense\"}");
    for (int i = 0; i < 3; i++) {
      Complete c = (Complete) s.events.get(2 * i + 1);
      Completion x = c.completion();
      s.events.set(2 * i + 1, new Complete(c.micros(), c.process(), c.id(), new Completion(x.outcome(), x.batch(),
          x.balance(), x.detail(), x.head(), Optional.of(receipts.get(i)))));
    }
    java.nio.file.Path file = java.nio.file.Files.createTempFile("history", ".jsonl");
    try {
      try (History.Writer w = new History.Writer(file)) {
        s.events.forEach(w::append);
      }
      List<Event> kept = History.read(file, Checker.dropVerifiedReceipts(Optional.of(operator.publicKey())));
      List<Boolean> withReceipt = kept.stream().filter(e -> e instanceof Complete).map(e -> ((Complete) e).completion()
          .receipt().isPresent()).toList();
      assertThat(withReceipt).containsExactly(false, true, true);
      List<String> violations = Checker.check(kept, s.state(), Optional.of(operator.publicKey()),
          Checker.ReadRule.SNAPSHOT).violations();
      assertThat(violations).hasSize(2);
      assertThat(violations.get(0)).startsWith("w#2 open:b: receipt does not verify");
      assertThat(violations.get(1)).startsWith("w#3 open:c: receipt unreadable");
      // Without an operator key no receipt is checked, so none is kept.
      assertThat(History.read(file, Checker.dropVerifiedReceipts(Optional.empty())).stream()
          .filter(e -> e instanceof Complete c && c.completion().receipt().isPresent())).isEmpty();
    } finally {
      java.nio.file.Files.deleteIfExists(file);
    }
  }

  /** A per-request receipt for the first request of {@code batch}, signed by {@code key}. */
  private static String receipt(SigningKey key, long batch) {
    Confirmation confirmation = new Confirmation("chaos", Digest.sha256(new byte[] {1}), batch, 0,
        Digest.sha256(new byte[] {2}));
    return ReceiptJson.write(Receipt.PerRequest.sign(confirmation, key));
  }

  @Test
  void theHistoryFileRoundTrips() throws Exception {
    Scenario s = clean();
    s.answered(new History.Withdraw("a", 3, "w\"9"), Outcome.UNKNOWN);
    java.nio.file.Path file = java.nio.file.Files.createTempFile("history", ".jsonl");
    try {
      try (History.Writer w = new History.Writer(file)) {
        s.events.forEach(w::append);
      }
      assertThat(java.nio.file.Files.readAllLines(file)).hasSize(s.events.size());
      assertThat(History.read(file)).isEqualTo(s.events);
    } finally {
      java.nio.file.Files.deleteIfExists(file);
    }
  }
}
