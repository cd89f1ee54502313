package dev.bulwark.bench;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.app.Origin;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.ledger.LedgerResult;
import dev.bulwark.server.engine.BatchEntry;
import dev.bulwark.server.engine.EngineConfig;
import dev.bulwark.server.engine.LocalReplicator;
import dev.bulwark.server.engine.Replica;
import dev.bulwark.server.engine.Replicator;
import dev.bulwark.server.engine.Sequencer;
import dev.bulwark.store.Durability;
import dev.bulwark.store.StoreConfig;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A follower's apply path alone, the part of a replica that a cluster bench cannot show apart
 * from the noise of four JVMs on two cores: batch entries recorded from the sequencer (gateway
 * transfers, as {@code bulwark bench --unsigned} sends them) are copied out of a buffer (as
 * Ratis hands them over), decoded and applied to a fresh replica on this thread, exactly as
 * {@code BulwarkStateMachine.applyTransaction} does on a follower. Every entry format this
 * build writes is measured, in alternating rounds, so formats compare within one process.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp
 * bulwark-bench/target/benchmarks.jar dev.bulwark.bench.FollowerApplyMain [accounts] [transfersPerAccount]
 * [rounds] [batchRequestsMax]}; defaults 2000 50 5 128 (a local cluster under {@code bulwark bench} makes
 * batches of 60 to 200 transfers). It prints, per round and format, the applying thread's and the
 * whole process's CPU µs per transfer (the process figure includes RocksDB's flushes and the JVM's
 * collector), then the medians.
 */
public final class FollowerApplyMain {
  private static final String GATEWAY = "bench-gateway";

  private FollowerApplyMain() {}

  /** Hands batches to the local replica and keeps each, to be applied again later. */
  private record Recording(Replicator inner, List<BatchEntry> entries) implements Replicator {
    @Override public CompletableFuture<Void> replicate(BatchEntry entry) {
      entries.add(entry);
      return inner.replicate(entry);
    }
  }

  public static void main(String[] args) throws Exception {
    int accounts = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int perAccount = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    int batchRequestsMax = args.length > 3 ? Integer.parseInt(args[3]) : 128;
    if (accounts < 2 || perAccount < 1 || rounds < 1 || batchRequestsMax < 1) {
      throw new IllegalArgumentException(
          "usage: FollowerApplyMain [accounts >= 2] [transfersPerAccount >= 1] [rounds >= 1] [batchRequestsMax >= 1]");
    }
    Path dir = TempDirectory.create("bulwark-follower-apply");
    try {
      run(dir, accounts, perAccount, rounds, batchRequestsMax);
    } finally {
      TempDirectory.delete(dir);
    }
  }

  private static StoreConfig store(Path dir) {
    return StoreConfig.defaults(dir).withDurability(Durability.NO_SYNC).withCacheBytesMax(512L << 20);
  }

  private static void run(Path dir, int accounts, int perAccount, int rounds, int batchRequestsMax) throws Exception {
    SigningKey admin = SigningKey.generate(new SplittableRandom(1));
    SigningKey operator = SigningKey.generate(new SplittableRandom(2));
    Ledger ledger = new Ledger(admin.publicKey());
    EngineConfig config = EngineConfig.defaults("bench").withQueueRequestsMax(1_000_000).withBatching(batchRequestsMax, 0);
    List<BatchEntry> entries = new ArrayList<>();
    int setupEntries;
    System.out.printf("recording: %d accounts, %d gateway transfers each%n", accounts, perAccount);
    try (Replica leader = new Replica(store(dir.resolve("leader")), ledger, config, Durability.NO_SYNC);
        LocalReplicator local = new LocalReplicator(leader);
        Sequencer<LedgerRequest, LedgerResult> sequencer = new Sequencer<>(ledger, config, leader,
            new Recording(local, entries), operator, InstantSource.system())) {
      List<CompletableFuture<Outcome>> opened = new ArrayList<>();
      for (int a = 0; a < accounts; a++) {
        SigningKey owner = SigningKey.generate(new SplittableRandom(1000 + a));
        opened.add(sequencer.submit(new ClientRequest(Bytes.utf8("setup-" + a), 1, LedgerRequest.CODEC.encode(
            LedgerRequest.sign(new LedgerOp.OpenAccount("a" + a, owner.publicKey()), owner)))));
      }
      for (CompletableFuture<Outcome> f : opened) {
        requireApplied(f.get(120, TimeUnit.SECONDS));
      }
      List<CompletableFuture<Outcome>> funded = new ArrayList<>();
      for (int a = 0; a < accounts; a++) {
        funded.add(sequencer.submit(new ClientRequest(Bytes.utf8("setup-" + a), 2, LedgerRequest.CODEC.encode(
            LedgerRequest.sign(new LedgerOp.Deposit("a" + a, 1_000_000, Bytes.utf8("d" + a)), admin)))));
      }
      for (CompletableFuture<Outcome> f : funded) {
        requireApplied(f.get(120, TimeUnit.SECONDS));
      }
      setupEntries = entries.size();
      SplittableRandom random = new SplittableRandom(7);
      CompletableFuture<?>[] chains = new CompletableFuture<?>[accounts];
      for (int a = 0; a < accounts; a++) {
        List<ClientRequest> transfers = new ArrayList<>();
        for (int n = 0; n < perAccount; n++) {
          int to = (a + 1 + random.nextInt(accounts - 1)) % accounts;
          transfers.add(new ClientRequest(Bytes.utf8("payer-" + a), n + 1, LedgerRequest.CODEC.encode(
              LedgerRequest.viaGateway(new LedgerOp.Transfer("a" + a, "a" + to, 1, n + 1), GATEWAY))));
        }
        chains[a] = chain(sequencer, transfers, 0);
      }
      CompletableFuture.allOf(chains).get(600, TimeUnit.SECONDS);
    }
    long transfers = (long) accounts * perAccount;
    System.out.printf("recorded %d entries (%d of set-up), %.0f transfers per batch%n", entries.size(), setupEntries,
        (double) transfers / (entries.size() - setupEntries));

    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    Map<Integer, List<double[]>> results = new TreeMap<>();
    for (int round = 1; round <= rounds; round++) {
      // Formats in turn, the first one alternating between rounds, so neither always runs on a colder JIT.
      List<Integer> formats = new ArrayList<>();
      for (int f = BatchEntry.FORMAT_VERSION_OLDEST; f <= BatchEntry.FORMAT_VERSION; f++) {
        formats.add(f);
      }
      if (round % 2 == 0) {
        java.util.Collections.reverse(formats);
      }
      for (int format : formats) {
        List<byte[]> encoded = new ArrayList<>(entries.size());
        long bytes = 0;
        for (BatchEntry e : entries) {
          byte[] b = e.encode(format).toByteArray();
          encoded.add(b);
          bytes += b.length;
        }
        Path replicaDir = dir.resolve("follower-" + round + "-" + format);
        try (Replica follower = new Replica(store(replicaDir), ledger, config, Durability.NO_SYNC)) {
          for (int i = 0; i < setupEntries; i++) {
            apply(follower, encoded.get(i), i + 1);
          }
          System.gc();
          long threadBefore = threads.getCurrentThreadCpuTime();
          long processBefore = os.getProcessCpuTime();
          long wallBefore = System.nanoTime();
          for (int i = setupEntries; i < encoded.size(); i++) {
            apply(follower, encoded.get(i), i + 1);
          }
          double thread = (threads.getCurrentThreadCpuTime() - threadBefore) / 1e3 / transfers;
          double process = (os.getProcessCpuTime() - processBefore) / 1e3 / transfers;
          double wall = (System.nanoTime() - wallBefore) / 1e3 / transfers;
          results.computeIfAbsent(format, f -> new ArrayList<>()).add(new double[] {thread, process, wall});
          System.out.printf("round %d, format %d: %.0f bytes per transfer; µs per transfer: applying thread %.2f, "
              + "process %.2f, wall %.2f%n", round, format, (double) bytes / transfers, thread, process, wall);
        }
        TempDirectory.delete(replicaDir);
      }
    }
    for (Map.Entry<Integer, List<double[]>> e : results.entrySet()) {
      System.out.printf("format %d, medians of %d rounds: applying thread %.2f µs, process %.2f µs per transfer%n",
          e.getKey(), e.getValue().size(), median(e.getValue(), 0), median(e.getValue(), 1));
    }
  }

  /** What a follower's state machine does with an entry off the Raft log. */
  private static void apply(Replica follower, byte[] fromLog, long logIndex) {
    Bytes encoded = Bytes.adopt(fromLog.clone());
    follower.apply(BatchEntry.CODEC.decode(encoded), encoded, logIndex, 1);
  }

  private static double median(List<double[]> rows, int column) {
    double[] values = rows.stream().mapToDouble(r -> r[column]).sorted().toArray();
    return values[values.length / 2];
  }

  private static void requireApplied(Outcome outcome) {
    if (!(outcome instanceof Outcome.Confirmed c) || !(c.result() instanceof ResultEnvelope.Applied)) {
      throw new IllegalStateException("request failed: " + outcome);
    }
  }

  private static CompletableFuture<Void> chain(Sequencer<LedgerRequest, LedgerResult> sequencer, List<ClientRequest> requests,
      int next) {
    if (next == requests.size()) {
      return CompletableFuture.completedFuture(null);
    }
    return sequencer.submit(requests.get(next), new Origin.Gateway(GATEWAY), false).thenCompose(outcome -> {
      requireApplied(outcome);
      return chain(sequencer, requests, next + 1);
    });
  }
}
