package dev.bulwark.cli;

import dev.bulwark.cli.bench.BenchAccount;
import dev.bulwark.cli.bench.BenchPlan;
import dev.bulwark.cli.bench.BenchReport;
import dev.bulwark.cli.bench.BenchRun;
import dev.bulwark.cli.bench.ErrorKinds;
import dev.bulwark.cli.bench.SignedTransfers;
import dev.bulwark.cli.bench.GatewayTransfers;
import dev.bulwark.cli.bench.ProcessCpu;
import dev.bulwark.cli.bench.TransferSource;
import dev.bulwark.client.BulwarkClient;
import dev.bulwark.client.ClientConfig;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.ledger.Account;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerOp;
import java.io.PrintWriter;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Load through the real edge: a running cluster, the Java client over TLS, every receipt
 * verified. Opens and funds fresh accounts, then runs {@link BenchRun} over them; see
 * {@link BenchPlan} for what the options mean together and {@link BenchReport} for the output.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Send transfers to a running cluster from concurrent clients through the Java client, verify every "
        + "receipt, print a progress line every second and a final report: throughput (overall and the median of "
        + "one-second windows), latency p50/p90/p99/p99.9/max, and errors by kind.",
        "Closed loop by default (each client sends when its previous transfer is answered); --rate sends on a fixed "
        + "schedule instead and measures latency from each transfer's scheduled time.",
        "Errors are counted by kind: rejected:CODE (refused before sequencing), refused:CODE (confirmed, refused by "
        + "the ledger), timeout[:last answer, e.g. busy or not-leader], receipt-rejected, failed:EXCEPTION.",
        "Exit status 0 when transfers were confirmed, 1 when none was, 2 on a usage or setup problem."})
final class BenchCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @picocli.CommandLine.Mixin
  LedgerCommands.ClusterOption cluster;

  @Option(names = "--clients", paramLabel = "N",
      description = "Concurrent clients, each with one transfer in flight (default 64, or --accounts if fewer).")
  Integer clients;

  @Option(names = "--accounts", paramLabel = "N",
      description = "Accounts to open; each client sends only from its own (default: twice --clients).")
  Integer accounts;

  @Option(names = "--duration", paramLabel = "TIME", description = "How long to measure, e.g. 30s, 2m (default 30s).")
  String duration;

  @Option(names = "--warmup", paramLabel = "TIME",
      description = "Load sent first and left out of the report, e.g. 5s, 0 for none (default 5s).")
  String warmup;

  @Option(names = "--transfers", paramLabel = "N",
      description = "Instead of a duration: send exactly N transfers from every account, all measured.")
  Long transfers;

  @Option(names = {"--rate", "--max-rate"}, paramLabel = "PER_SECOND",
      description = "Open loop: send this many transfers per second in total, on a fixed schedule.")
  Long rate;

  @Option(names = "--unsigned", paramLabel = "GATEWAY",
      description = "Send unsigned transfers as trusted gateway GATEWAY, over connections with its certificate "
          + "(issue one with 'bulwark cluster issue-client DIR GATEWAY --gateway').")
  String unsignedGateway;

  @Option(names = "--state-proofs",
      description = "Ask for receipts with proofs of the state entries each transfer wrote (as 'bulwark transfer' "
          + "does), and verify them too. Without it, receipts prove each confirmation under its signed batch head "
          + "and nothing more, which is what a gateway forwarding transfers needs.")
  boolean stateProofs;

  @Option(names = "--html", paramLabel = "FILE",
      description = "Also write the report as an HTML page with a latency histogram and throughput over time.")
  java.nio.file.Path html;

  @Option(names = "--cpu",
      description = "Also report the CPU time each process used per 1,000 confirmed transfers while measured: this "
          + "bench and the cluster's replicas running on this machine (their pid files; Linux).")
  boolean cpu;

  @Option(names = "--json", description = "Print the final report as JSON on standard output; progress goes to standard error.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    BenchPlan plan;
    try {
      plan = BenchPlan.fromOptions(clients, accounts, duration, warmup, transfers, rate);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    TransferSource source = unsignedGateway == null ? new SignedTransfers() : new GatewayTransfers(unsignedGateway);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter progress = json ? spec.commandLine().getErr() : out;

    SecureRandom random = new SecureRandom();
    byte[] run = new byte[4];
    random.nextBytes(run);
    String prefix = "bench-" + HexFormat.of().formatHex(run) + "-";
    // The cluster directory first (config reads it), then the keys: the likelier mistake is named.
    ClientConfig config = cluster.config(prefix + "client").withLanes(plan.clients()).withStateProofs(stateProofs);
    SigningKey admin = cluster.adminKey(null);
    if (unsignedGateway != null) {
      config = cluster.asGateway(config, unsignedGateway);
    }
    try (BulwarkClient client = new BulwarkClient(config)) {
      progress.printf("opening and funding %,d accounts ...%n", plan.accounts());
      progress.flush();
      List<BenchAccount> opened = openAccounts(client, admin, prefix, plan.accounts(), random);
      progress.printf("%d clients sending %s transfers (receipts %s state proofs) ...%n", plan.clients(), source.name(),
          stateProofs ? "with" : "without");
      progress.flush();
      BenchRun.Target target = new BenchRun.Target() {
        @Override public Outcome submit(Bytes payload) throws InterruptedException {
          return client.submit(payload);
        }

        @Override public long nextNonce(String account) throws InterruptedException {
          var entry = client.query(Ledger.ACCOUNTS.keyBytes(account));
          return Account.CODEC.decode(entry.value().orElseThrow(
              () -> new IllegalStateException("bench account " + account + " is gone"))).nonce() + 1;
        }
      };
      BenchRun bench = new BenchRun(plan, opened, source, target, progress, config.requestTimeout().plusSeconds(5),
          random.nextLong());
      if (cpu) {
        bench.measuringCpu(new ProcessCpu(localReplicas()));
      }
      BenchReport report = bench.run();
      out.print(json ? report.json() : report.text());
      out.flush();
      if (html != null) {
        java.nio.file.Files.writeString(html, report.html());
        progress.println("HTML report: " + html.toAbsolutePath());
        progress.flush();
      }
      return report.confirmed() > 0 ? 0 : 1;
    }
  }

  /** The cluster's replicas running on this machine, id -> pid, from their pid files. */
  private java.util.Map<String, Long> localReplicas() {
    java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
    for (java.nio.file.Path rdir : ClusterCommand.replicaDirs(cluster.cluster)) {
      ClusterCommand.running(rdir).ifPresent(p -> out.put(rdir.getFileName().toString(), p.pid()));
    }
    return out;
  }

  /** Opens {@code count} accounts with fresh owner keys and funds each from the admin key, all at once. */
  private static List<BenchAccount> openAccounts(BulwarkClient client, SigningKey admin, String prefix, int count,
      SecureRandom random) throws InterruptedException {
    List<BenchAccount> opened = new ArrayList<>();
    List<Future<Void>> setup = new ArrayList<>();
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < count; i++) {
        BenchAccount account = new BenchAccount(prefix + i, SigningKey.generate(random));
        opened.add(account);
        setup.add(threads.submit(() -> {
          applied(account.name(), client.submit(LedgerCommands.payload(
              new LedgerOp.OpenAccount(account.name(), account.owner().publicKey()), account.owner())));
          applied(account.name(), client.submit(LedgerCommands.payload(
              new LedgerOp.Deposit(account.name(), FUNDING, Bytes.utf8(account.name())), admin)));
          return null;
        }));
      }
      for (Future<Void> f : setup) {
        try {
          f.get(SETUP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          setup.forEach(s -> s.cancel(true));
          if (e.getCause() instanceof UserError u) {
            throw u;
          }
          throw new UserError("cannot open the bench accounts: " + (e.getCause() instanceof RuntimeException r
              ? ErrorKinds.of(r) + " " + r.getMessage() : String.valueOf(e.getCause())));
        } catch (java.util.concurrent.TimeoutException e) {
          setup.forEach(s -> s.cancel(true));
          throw new UserError("the bench accounts were not all opened within " + SETUP_TIMEOUT.toSeconds() + " s");
        }
      }
    }
    return opened;
  }

  /** Funds per account: far more than a day of one-unit transfers can move. */
  private static final long FUNDING = 1_000_000_000L;
  private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(120);

  private static void applied(String account, Outcome o) {
    ErrorKinds.of(o).ifPresent(kind -> {
      throw new UserError("cannot open bench account " + account + ": " + kind + " " + o);
    });
  }
}
