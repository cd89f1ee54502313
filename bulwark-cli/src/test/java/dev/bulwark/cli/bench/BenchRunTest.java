package dev.bulwark.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.client.ReceiptRejectedException;
import dev.bulwark.client.RequestTimeoutException;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/** The streams against an in-memory ledger that checks signatures and nonces, with faults on chosen submissions. */
class BenchRunTest {
  private static final SecureRandom RANDOM = new SecureRandom();

  /** What the fake does with submission number n (1-based) once it has checked it. */
  enum Fault { NONE, APPLY_THEN_TIME_OUT, REFUSE_FUNDS, APPLY_THEN_BAD_RECEIPT }

  /** A ledger of nonces: applies a transfer with the right nonce and a valid signature, rejects the rest. */
  static final class FakeLedger implements BenchRun.Target {
    final Map<String, Long> nonces = new ConcurrentHashMap<>();
    final Map<String, SigningKey> owners = new ConcurrentHashMap<>();
    final AtomicInteger submissions = new AtomicInteger();
    final List<String> wrongDestinations = java.util.Collections.synchronizedList(new ArrayList<>());
    final IntFunction<Fault> faults;
    volatile boolean staleNonceReadOnce;

    FakeLedger(List<BenchAccount> accounts, IntFunction<Fault> faults) {
      accounts.forEach(a -> {
        nonces.put(a.name(), 0L);
        owners.put(a.name(), a.owner());
      });
      this.faults = faults;
    }

    @Override
    public Outcome submit(Bytes payload) throws InterruptedException {
      int n = submissions.incrementAndGet();
      LedgerRequest request = LedgerRequest.CODEC.decode(payload);
      LedgerOp.Transfer t = (LedgerOp.Transfer) request.op();
      if (!request.signatureValid() || !request.signedBy(owners.get(t.from()).publicKey())) {
        return new Outcome.Rejected("NOT_AUTHORIZED", "bad signer");
      }
      if (t.from().equals(t.to()) || !nonces.containsKey(t.to())) {
        wrongDestinations.add(t.to());
      }
      if (t.nonce() != nonces.get(t.from()) + 1) {
        return new Outcome.Rejected("BAD_NONCE", "want " + (nonces.get(t.from()) + 1));
      }
      Fault fault = faults.apply(n);
      if (fault == Fault.REFUSE_FUNDS) {
        return new Outcome.Confirmed(new ResultEnvelope.Refused("INSUFFICIENT_FUNDS", "poor"), null);
      }
      nonces.merge(t.from(), 1L, Long::sum);
      return switch (fault) {
        case APPLY_THEN_TIME_OUT -> throw new RequestTimeoutException("late", new Outcome.Unknown("leader moved"));
        case APPLY_THEN_BAD_RECEIPT -> {
          staleNonceReadOnce = true;
          throw new ReceiptRejectedException("forged");
        }
        default -> new Outcome.Confirmed(new ResultEnvelope.Applied(Bytes.utf8("ok")), null);
      };
    }

    @Override
    public long nextNonce(String account) {
      long next = nonces.get(account) + 1;
      if (staleNonceReadOnce) {
        staleNonceReadOnce = false;
        return next - 1; // a read from a replica a batch behind
      }
      return next;
    }
  }

  static List<BenchAccount> accounts(int count) {
    List<BenchAccount> accounts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      accounts.add(new BenchAccount("acct-" + i, SigningKey.generate(RANDOM)));
    }
    return accounts;
  }

  static BenchReport run(BenchPlan plan, List<BenchAccount> accounts, BenchRun.Target target, StringWriter progress,
      Duration drainMax) throws InterruptedException {
    return new BenchRun(plan, accounts, new SignedTransfers(), target, new PrintWriter(progress, true), drainMax, 42).run();
  }

  @Test
  void everyAccountSendsItsTransfersInNonceOrder() throws Exception {
    BenchPlan plan = new BenchPlan(3, 7, 0, new BenchPlan.Length.TransfersPerAccount(4), OptionalLong.empty());
    List<BenchAccount> accounts = accounts(7);
    FakeLedger ledger = new FakeLedger(accounts, n -> Fault.NONE);
    BenchReport report = run(plan, accounts, ledger, new StringWriter(), Duration.ofSeconds(5));
    assertThat(report.confirmed()).isEqualTo(28);
    assertThat(report.errors()).isEmpty();
    assertThat(ledger.nonces.values()).containsOnly(4L);
    assertThat(ledger.wrongDestinations).isEmpty();
    assertThat(report.latency().max()).isPositive();
  }

  @Test
  void errorsAreCountedByKindAndANonceInDoubtIsReadBack() throws Exception {
    BenchPlan plan = new BenchPlan(1, 2, 0, new BenchPlan.Length.TransfersPerAccount(10), OptionalLong.empty());
    List<BenchAccount> accounts = accounts(2);
    FakeLedger ledger = new FakeLedger(accounts, n -> switch (n) {
      case 5 -> Fault.APPLY_THEN_TIME_OUT;
      case 9 -> Fault.REFUSE_FUNDS;
      case 13 -> Fault.APPLY_THEN_BAD_RECEIPT; // and the nonce read after it is stale: submission 15 has a bad nonce
      default -> Fault.NONE;
    });
    BenchReport report = run(plan, accounts, ledger, new StringWriter(), Duration.ofSeconds(5));
    assertThat(ledger.submissions.get()).isEqualTo(20);
    assertThat(report.errors()).isEqualTo(Map.of("timeout:unknown", 1L, "refused:INSUFFICIENT_FUNDS", 1L,
        "receipt-rejected", 1L, "rejected:BAD_NONCE", 1L));
    assertThat(report.confirmed()).isEqualTo(16);
    // Applied: the 16 confirmed and the two whose answer was lost; each account's nonce kept up.
    assertThat(ledger.nonces.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(18);
  }

  @Test
  void openLoopNeverSendsAheadOfItsSchedule() throws Exception {
    BenchPlan plan = new BenchPlan(2, 4, 0, new BenchPlan.Length.Seconds(1), OptionalLong.of(20));
    List<BenchAccount> accounts = accounts(4);
    FakeLedger ledger = new FakeLedger(accounts, n -> Fault.NONE);
    StringWriter progress = new StringWriter();
    long started = System.nanoTime();
    BenchReport report = run(plan, accounts, ledger, progress, Duration.ofSeconds(5));
    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
    // Due at 0, 50, ..., 950 ms and one at the 1 s edge; on a busy machine the run may notice
    // its end late, and what fell due by then may go out, but never more.
    assertThat(ledger.submissions.get()).isBetween(1, (int) Math.max(21, 1 + elapsedMs / 50));
    assertThat(report.windows()).hasSize(1);
    assertThat(progress.toString().lines().toList()).hasSize(1).first().asString().startsWith("    1 s ");
  }

  @Test
  void aClusterThatNeverAnswersIsGivenUpOnAfterTheDrain() throws Exception {
    BenchPlan plan = new BenchPlan(1, 2, 0, new BenchPlan.Length.Seconds(1), OptionalLong.empty());
    BenchRun.Target silent = new BenchRun.Target() {
      @Override public Outcome submit(Bytes payload) throws InterruptedException {
        Thread.sleep(Duration.ofHours(1));
        throw new AssertionError("woke up");
      }

      @Override public long nextNonce(String account) {
        throw new AssertionError("no nonce to read");
      }
    };
    StringWriter progress = new StringWriter();
    BenchReport report = run(plan, accounts(2), silent, progress, Duration.ofSeconds(1));
    assertThat(report.confirmed()).isZero();
    assertThat(report.errors()).isEqualTo(Map.of("unanswered", 1L));
    assertThat(progress.toString()).contains("(drain)", "1 clients still waiting for an answer after 1 s: giving up");
  }
}
