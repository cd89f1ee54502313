package dev.bulwark.bench;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.app.Origin;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.ledger.LedgerResult;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.server.engine.EngineConfig;
import dev.bulwark.server.engine.LocalReplicator;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.server.engine.ReceiptMode;
import dev.bulwark.server.engine.Replica;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.server.engine.Sequencer;
import dev.bulwark.store.Durability;
import dev.bulwark.store.StoreConfig;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The sequencer alone: ledger transfers through stages 2 to 4 (decode, signature check,
 * optimistic check, apply in a savepoint, state trie, confirmation log, signed head, receipts)
 * with replication stubbed out by a single local replica applying with NO_SYNC. Transfers are
 * signed before the clock starts, so the client's signing does not compete for the two cores.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp
 * bulwark-bench/target/benchmarks.jar dev.bulwark.bench.SequencerBenchMain [accounts] [transfersPerAccount]
 * [per-batch|per-request] [proofs|no-proofs] [signed|unsigned]}; defaults 2000 100 per-batch proofs signed.
 * Unsigned transfers come from a gateway connection, as {@code bulwark bench --unsigned} sends them:
 * no signature to verify, so the sequencer thread's share stands out. It prints
 * requests per second per one-second window (the median is the figure to quote) and latency
 * percentiles.
 */
public final class SequencerBenchMain {
  private static final String GATEWAY = "bench-gateway";

  private SequencerBenchMain() {}

  public static void main(String[] args) throws Exception {
    int accounts = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int perAccount = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    ReceiptMode mode = args.length > 2 && args[2].equals("per-request") ? ReceiptMode.PER_REQUEST : ReceiptMode.PER_BATCH;
    boolean proofs = !(args.length > 3 && args[3].equals("no-proofs"));
    boolean unsigned = args.length > 4 && args[4].equals("unsigned");
    Path dir = TempDirectory.create("bulwark-sequencer-bench");
    SigningKey admin = SigningKey.generate(new SplittableRandom(1));
    SigningKey operator = SigningKey.generate(new SplittableRandom(2));
    Ledger ledger = new Ledger(admin.publicKey());
    EngineConfig config = EngineConfig.defaults("bench").withReceiptMode(mode).withStateProofsInReceipts(proofs)
        .withQueueRequestsMax(1_000_000);
    try (Replica replica = new Replica(StoreConfig.defaults(dir).withDurability(Durability.NO_SYNC).withCacheBytesMax(512L << 20),
            ledger, config, Durability.NO_SYNC);
        LocalReplicator replicator = new LocalReplicator(replica);
        Sequencer<LedgerRequest, LedgerResult> sequencer =
            new Sequencer<>(ledger, config, replica, replicator, operator, InstantSource.system())) {
      System.out.printf("setup: %d accounts, %d transfers each, %s receipts, state proofs %s, %s%n", accounts,
          perAccount, mode, proofs, unsigned ? "unsigned from a gateway" : "signed by the owners");
      List<SigningKey> owners = new ArrayList<>();
      List<CompletableFuture<Outcome>> setup = new ArrayList<>();
      for (int a = 0; a < accounts; a++) {
        SigningKey owner = SigningKey.generate(new SplittableRandom(1000 + a));
        owners.add(owner);
        setup.add(sequencer.submit(new ClientRequest(Bytes.utf8("setup-" + a), 1,
            LedgerRequest.CODEC.encode(LedgerRequest.sign(new LedgerOp.OpenAccount("a" + a, owner.publicKey()), owner)))));
      }
      join(setup);
      setup.clear();
      for (int a = 0; a < accounts; a++) {
        setup.add(sequencer.submit(new ClientRequest(Bytes.utf8("setup-" + a), 2, LedgerRequest.CODEC.encode(
            LedgerRequest.sign(new LedgerOp.Deposit("a" + a, 1_000_000, Bytes.utf8("d" + a)), admin)))));
      }
      join(setup);
      System.out.println("signing " + (long) accounts * perAccount + " transfers ...");
      ClientRequest[][] transfers = new ClientRequest[accounts][perAccount];
      SplittableRandom random = new SplittableRandom(7);
      for (int a = 0; a < accounts; a++) {
        for (int n = 0; n < perAccount; n++) {
          int to = (a + 1 + random.nextInt(accounts - 1)) % accounts;
          LedgerOp.Transfer op = new LedgerOp.Transfer("a" + a, "a" + to, 1, n + 1);
          LedgerRequest t = unsigned ? LedgerRequest.viaGateway(op, GATEWAY) : LedgerRequest.sign(op, owners.get(a));
          transfers[a][n] = new ClientRequest(Bytes.utf8("payer-" + a), n + 1, LedgerRequest.CODEC.encode(t));
        }
      }
      System.out.println("running: one transfer in flight per account");
      LongAdder confirmed = new LongAdder();
      LongAdder refused = new LongAdder();
      long[] latenciesNs = new long[accounts * perAccount];
      AtomicLong latencyCount = new AtomicLong();
      CompletableFuture<?>[] chains = new CompletableFuture<?>[accounts];
      RunCpu cpu = new RunCpu();
      long batchesBefore = replica.applied().batchNumber();
      cpu.start();
      long start = System.nanoTime();
      for (int a = 0; a < accounts; a++) {
        chains[a] = chain(sequencer, transfers[a], 0, unsigned ? new Origin.Gateway(GATEWAY) : Origin.PUBLIC, proofs,
            confirmed, refused, latenciesNs, latencyCount);
      }
      List<Long> perSecond = new ArrayList<>();
      long last = 0;
      for (int s = 0; s < 600 && !CompletableFuture.allOf(chains).isDone(); s++) {
        Thread.sleep(1000);
        long now = confirmed.sum();
        perSecond.add(now - last);
        System.out.printf("  %3d s: %,d confirmed/s%n", s + 1, now - last);
        last = now;
      }
      CompletableFuture.allOf(chains).get(60, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - start) / 1e9;
      cpu.report(confirmed.sum() + refused.sum());
      long timedBatches = replica.applied().batchNumber() - batchesBefore;
      long[] lat = Arrays.copyOf(latenciesNs, (int) latencyCount.get());
      Arrays.sort(lat);
      List<Long> full = perSecond.size() > 2 ? perSecond.subList(0, perSecond.size() - 1) : perSecond;
      long[] rates = full.stream().mapToLong(Long::longValue).sorted().toArray();
      System.out.printf("done: %,d confirmed (%,d refused) in %.1f s; median %,d/s over %d full windows%n",
          confirmed.sum(), refused.sum(), seconds, rates.length == 0 ? 0 : rates[rates.length / 2], rates.length);
      System.out.printf("latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms; timed batches %d (%.1f requests each)%n",
          lat[lat.length / 2] / 1e6, lat[(int) (lat.length * 0.99)] / 1e6, lat[lat.length - 1] / 1e6,
          timedBatches, (double) (confirmed.sum() + refused.sum()) / timedBatches);
    } finally {
      TempDirectory.delete(dir); // the store, hundreds of MB a run
    }
  }

  private static CompletableFuture<Void> chain(Sequencer<LedgerRequest, LedgerResult> sequencer, ClientRequest[] requests,
      int next, Origin origin, boolean proofs, LongAdder confirmed, LongAdder refused, long[] latencies, AtomicLong count) {
    if (next == requests.length) {
      return CompletableFuture.completedFuture(null);
    }
    long sent = System.nanoTime();
    return sequencer.submit(requests[next], origin, proofs).thenCompose(outcome -> {
      latencies[(int) count.getAndIncrement()] = System.nanoTime() - sent;
      if (outcome instanceof Outcome.Confirmed c && c.result() instanceof ResultEnvelope.Applied) {
        confirmed.increment();
      } else {
        refused.increment();
        System.err.println("not applied: " + outcome);
      }
      return chain(sequencer, requests, next + 1, origin, proofs, confirmed, refused, latencies, count);
    });
  }

  private static void join(List<CompletableFuture<Outcome>> futures) throws Exception {
    for (CompletableFuture<Outcome> f : futures) {
      Outcome o = f.get(120, TimeUnit.SECONDS);
      if (!(o instanceof Outcome.Confirmed c) || !(c.result() instanceof ResultEnvelope.Applied)) {
        throw new IllegalStateException("setup request failed: " + o);
      }
    }
  }
}
