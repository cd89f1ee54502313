package dev.bulwark.cli;

import dev.bulwark.client.BulwarkClient;
import dev.bulwark.client.ClientConfig;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.store.keys.KeyFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Load through the real edge: a running cluster, the Java client over TLS, signed transfers
 * with one in flight per account and every receipt verified. Prints confirmed transfers per
 * second (each second and the median) and latency percentiles.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Send signed transfers to a running cluster through the client, verify every receipt, and report "
        + "throughput (median of one-second windows) and latency.")
final class BenchCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @picocli.CommandLine.Mixin
  LedgerCommands.ClusterOption cluster;

  @Option(names = "--accounts", defaultValue = "64", description = "Accounts, each sending one transfer at a time (default ${DEFAULT-VALUE}).")
  int accounts;

  @Option(names = "--transfers", defaultValue = "50", description = "Transfers per account (default ${DEFAULT-VALUE}).")
  int transfers;

  @Override
  public Integer call() throws Exception {
    if (accounts < 2 || accounts > 4096 || transfers < 1 || transfers > 100_000) {
      throw new UserError("--accounts must be 2 to 4096 and --transfers 1 to 100000");
    }
    PrintWriter out = spec.commandLine().getOut();
    SecureRandom random = new SecureRandom();
    SigningKey admin = KeyFiles.readPrivateKey(cluster.cluster.resolve("admin.key"));
    ReplicaSettings first = ReplicaSettings.read(ClusterCommand.replicaDirs(cluster.cluster).getFirst().resolve("replica.properties"));
    byte[] run = new byte[4];
    random.nextBytes(run);
    String prefix = "bench-" + HexFormat.of().formatHex(run) + "-";
    ClientConfig config = ClientConfig.defaults(first.ingressPeers(), cluster.cluster.resolve("ca.crt"),
        KeyFiles.readPublicKey(cluster.cluster.resolve("operator.pub")), prefix + "client").withLanes(accounts);
    try (BulwarkClient client = new BulwarkClient(config); ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      out.printf("opening %d accounts ...%n", accounts);
      out.flush();
      List<SigningKey> owners = new ArrayList<>();
      List<Future<Outcome>> setup = new ArrayList<>();
      for (int i = 0; i < accounts; i++) {
        SigningKey owner = SigningKey.generate(random);
        owners.add(owner);
        String name = prefix + i;
        setup.add(threads.submit(() -> {
          applied(client.submit(LedgerCommands.payload(new LedgerOp.OpenAccount(name, owner.publicKey()), owner)));
          return applied(client.submit(LedgerCommands.payload(new LedgerOp.Deposit(name, 1_000_000, Bytes.utf8(name)), admin)));
        }));
      }
      for (Future<Outcome> f : setup) {
        f.get(120, TimeUnit.SECONDS);
      }
      out.printf("sending %,d transfers, one in flight per account ...%n", (long) accounts * transfers);
      out.flush();
      LongAdder confirmed = new LongAdder();
      long[] latencies = new long[accounts * transfers];
      AtomicLong count = new AtomicLong();
      List<Future<?>> streams = new ArrayList<>();
      long start = System.nanoTime();
      for (int i = 0; i < accounts; i++) {
        int from = i;
        streams.add(threads.submit(() -> {
          for (int n = 1; n <= transfers; n++) {
            int to = (from + n) % accounts == from ? (from + 1) % accounts : (from + n) % accounts;
            Bytes payload = LedgerRequest.CODEC.encode(LedgerRequest.sign(
                new LedgerOp.Transfer(prefix + from, prefix + to, 1, n), owners.get(from)));
            long sent = System.nanoTime();
            applied(client.submit(payload));
            latencies[(int) count.getAndIncrement()] = System.nanoTime() - sent;
            confirmed.increment();
          }
          return null;
        }));
      }
      List<Long> perSecond = new ArrayList<>();
      long last = 0;
      for (int s = 0; s < 3600 && !streams.stream().allMatch(Future::isDone); s++) {
        Thread.sleep(1000);
        long now = confirmed.sum();
        perSecond.add(now - last);
        out.printf("  %3d s: %,d confirmed/s%n", s + 1, now - last);
        out.flush();
        last = now;
      }
      for (Future<?> f : streams) {
        f.get(60, TimeUnit.SECONDS);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      long[] lat = Arrays.copyOf(latencies, (int) count.get());
      Arrays.sort(lat);
      List<Long> full = perSecond.size() > 1 ? perSecond.subList(0, perSecond.size() - 1) : perSecond;
      long[] rates = full.stream().mapToLong(Long::longValue).sorted().toArray();
      out.printf("%,d transfers confirmed and their receipts verified in %.1f s: median %,d/s over %d full seconds; "
          + "latency p50 %.1f ms, p99 %.1f ms%n", confirmed.sum(), seconds, rates.length == 0 ? confirmed.sum() : rates[rates.length / 2],
          rates.length, lat[lat.length / 2] / 1e6, lat[(int) (lat.length * 0.99)] / 1e6);
      return 0;
    }
  }

  private static Outcome applied(Outcome o) {
    if (!(o instanceof Outcome.Confirmed c) || !(c.result() instanceof ResultEnvelope.Applied)) {
      throw new IllegalStateException("not applied: " + o);
    }
    return o;
  }
}
