package dev.bulwark.bench;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.ledger.LedgerResult;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.server.engine.EngineConfig;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.server.raft.InProcessCluster;
import dev.bulwark.server.raft.RaftSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The whole pipeline: three Raft replicas in one JVM on 127.0.0.1 (gRPC over loopback, a
 * RocksDB store and a Raft log each), ledger transfers signed in advance, one in flight per
 * account. Everything shares this machine's two cores with the clients.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp
 * bulwark-bench/target/benchmarks.jar dev.bulwark.bench.ClusterBenchMain [accounts] [transfersPerAccount]};
 * defaults 1000 20. Prints confirmed transfers per one-second window (quote the median) and
 * latency percentiles.
 */
public final class ClusterBenchMain {
  private ClusterBenchMain() {}

  public static void main(String[] args) throws Exception {
    int accounts = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int perAccount = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    Path dir = TempDirectory.create("bulwark-cluster-bench");
    SigningKey admin = SigningKey.generate(new SplittableRandom(1));
    SigningKey operator = SigningKey.generate(new SplittableRandom(2));
    Ledger ledger = new Ledger(admin.publicKey());
    try (InProcessCluster<LedgerRequest, LedgerResult> cluster = new InProcessCluster<>(3, dir, ledger,
        EngineConfig.defaults("bench").withQueueRequestsMax(1_000_000), RaftSettings.DEFAULT, operator);
        ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
      cluster.awaitLeader(30_000);
      System.out.printf("setup: 3 replicas, %d accounts, %d transfers each%n", accounts, perAccount);
      List<SigningKey> owners = new ArrayList<>();
      List<Future<Outcome>> setup = new ArrayList<>();
      for (int a = 0; a < accounts; a++) {
        SigningKey owner = SigningKey.generate(new SplittableRandom(1000 + a));
        owners.add(owner);
        int account = a;
        setup.add(clients.submit(() -> {
          check(cluster.send(new ClientRequest(Bytes.utf8("setup-" + account), 1, LedgerRequest.CODEC.encode(
              LedgerRequest.sign(new LedgerOp.OpenAccount("a" + account, owner.publicKey()), owner))), 1000));
          return check(cluster.send(new ClientRequest(Bytes.utf8("setup-" + account), 2, LedgerRequest.CODEC.encode(
              LedgerRequest.sign(new LedgerOp.Deposit("a" + account, 1_000_000, Bytes.utf8("d" + account)), admin))), 1000));
        }));
      }
      for (Future<Outcome> f : setup) {
        f.get(300, TimeUnit.SECONDS);
      }
      System.out.println("signing " + (long) accounts * perAccount + " transfers ...");
      ClientRequest[][] transfers = new ClientRequest[accounts][perAccount];
      SplittableRandom random = new SplittableRandom(7);
      for (int a = 0; a < accounts; a++) {
        for (int n = 0; n < perAccount; n++) {
          int to = (a + 1 + random.nextInt(accounts - 1)) % accounts;
          transfers[a][n] = new ClientRequest(Bytes.utf8("payer-" + a), n + 1, LedgerRequest.CODEC.encode(
              LedgerRequest.sign(new LedgerOp.Transfer("a" + a, "a" + to, 1, n + 1), owners.get(a))));
        }
      }
      System.out.println("running: one transfer in flight per account");
      LongAdder confirmed = new LongAdder();
      long[] latencies = new long[accounts * perAccount];
      AtomicLong count = new AtomicLong();
      List<Future<?>> chains = new ArrayList<>();
      RunCpu cpu = new RunCpu();
      long batchesBefore = cluster.awaitLeader(1000).replica().applied().batchNumber();
      cpu.start();
      long start = System.nanoTime();
      for (int a = 0; a < accounts; a++) {
        ClientRequest[] mine = transfers[a];
        chains.add(clients.submit(() -> {
          for (ClientRequest r : mine) {
            long sent = System.nanoTime();
            check(cluster.send(r, 1000));
            latencies[(int) count.getAndIncrement()] = System.nanoTime() - sent;
            confirmed.increment();
          }
          return null;
        }));
      }
      List<Long> perSecond = new ArrayList<>();
      long last = 0;
      for (int s = 0; s < 600 && !chains.stream().allMatch(Future::isDone); s++) {
        Thread.sleep(1000);
        long now = confirmed.sum();
        perSecond.add(now - last);
        System.out.printf("  %3d s: %,d confirmed/s%n", s + 1, now - last);
        last = now;
      }
      for (Future<?> f : chains) {
        f.get(60, TimeUnit.SECONDS);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      cpu.report(confirmed.sum());
      long[] lat = Arrays.copyOf(latencies, (int) count.get());
      Arrays.sort(lat);
      List<Long> full = perSecond.size() > 2 ? perSecond.subList(0, perSecond.size() - 1) : perSecond;
      long[] rates = full.stream().mapToLong(Long::longValue).sorted().toArray();
      var leader = cluster.awaitLeader(1000);
      System.out.printf("done: %,d confirmed in %.1f s; median %,d/s over %d full windows%n", confirmed.sum(), seconds,
          rates.length == 0 ? 0 : rates[rates.length / 2], rates.length);
      long timedBatches = leader.replica().applied().batchNumber() - batchesBefore;
      System.out.printf("latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms; timed batches %d (%.1f requests each)%n",
          lat[lat.length / 2] / 1e6, lat[(int) (lat.length * 0.99)] / 1e6, lat[lat.length - 1] / 1e6, timedBatches,
          (double) confirmed.sum() / timedBatches);
    } finally {
      TempDirectory.delete(dir); // the store, hundreds of MB a run
    }
  }

  private static Outcome check(Outcome o) {
    if (!(o instanceof Outcome.Confirmed c) || !(c.result() instanceof ResultEnvelope.Applied)) {
      throw new IllegalStateException("not applied: " + o);
    }
    return o;
  }
}
