package dev.bulwark.cli;

import dev.bulwark.client.BulwarkClient;
import dev.bulwark.client.ClientConfig;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.ledger.Account;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerHistory;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.ledger.LedgerResult;
import dev.bulwark.store.keys.KeyFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The ledger from the command line, through the Java client: every receipt and every balance
 * proof is checked against the operator's key before anything is printed. Exit status 0 when
 * applied, 1 when refused, 2 on a usage or connection problem.
 */
final class LedgerCommands {
  private LedgerCommands() {}

  /** Where the cluster is: its directory, as 'bulwark cluster init' made it. */
  static final class ClusterOption {
    @Option(names = "--cluster", required = true, paramLabel = "DIR", description = "The cluster directory.")
    Path cluster;

    /** The admin key given, or the cluster's own admin.key. */
    SigningKey adminKey(Path given) {
      return KeyFiles.readPrivateKey(given != null ? given : cluster.resolve("admin.key"));
    }

    BulwarkClient client() {
      return new BulwarkClient(config("cli").withLanes(1));
    }

    /** A client of this cluster named {@code prefix} and a random suffix, with the defaults otherwise. */
    ClientConfig config(String prefix) {
      var replicas = ClusterCommand.replicaDirs(cluster);
      ReplicaSettings first = ReplicaSettings.read(replicas.getFirst().resolve("replica.properties"));
      byte[] name = new byte[4];
      new SecureRandom().nextBytes(name);
      return ClientConfig.defaults(first.ingressPeers(), cluster.resolve("ca.crt"),
          KeyFiles.readPublicKey(cluster.resolve("operator.pub")), prefix + "-" + HexFormat.of().formatHex(name));
    }

    /** The config with gateway {@code name}'s certificate from CLUSTER/clients (see 'bulwark cluster issue-client'). */
    ClientConfig asGateway(ClientConfig config, String name) {
      Path certificate = cluster.resolve("clients").resolve(name + ".crt");
      Path key = cluster.resolve("clients").resolve(name + ".key");
      if (!java.nio.file.Files.isRegularFile(certificate) || !java.nio.file.Files.isRegularFile(key)) {
        throw new UserError("no certificate for gateway '" + name + "' in " + cluster.resolve("clients")
            + " (issue one with 'bulwark cluster issue-client " + cluster + " " + name + " --gateway')");
      }
      return config.withIdentity(certificate, key);
    }
  }

  static int report(PrintWriter out, String what, Outcome outcome) {
    switch (outcome) {
      case Outcome.Confirmed c when c.result() instanceof ResultEnvelope.Applied applied -> {
        LedgerResult r = LedgerResult.CODEC.decode(applied.result());
        out.printf("%s: %s has %,d (nonce %d); batch %d, receipt verified%n", what, r.account(), r.balance(), r.nonce(),
            c.receipt().confirmation().batchNumber());
        return 0;
      }
      case Outcome.Confirmed c when c.result() instanceof ResultEnvelope.Refused refused -> {
        out.printf("refused: %s %s (confirmed in batch %d)%n", refused.code(), refused.message(),
            c.receipt().confirmation().batchNumber());
        return 1;
      }
      case Outcome.Rejected rejected -> {
        out.printf("refused: %s %s%n", rejected.code(), rejected.message());
        return 1;
      }
      default -> {
        out.println("no definite answer: " + outcome);
        return 2;
      }
    }
  }

  static Bytes payload(LedgerOp op, SigningKey key) {
    return LedgerRequest.CODEC.encode(LedgerRequest.sign(op, key));
  }

  @Command(name = "account", mixinStandardHelpOptions = true, description = "Ledger accounts.",
      subcommands = {Create.class})
  static final class AccountCommand implements Runnable {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override public void run() {
      spec.commandLine().usage(spec.commandLine().getOut());
    }
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Open an account owned by the key in --owner-key (make one with 'bulwark keys generate').")
  static final class Create implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;
    @picocli.CommandLine.Mixin
    ClusterOption cluster;
    @Parameters(index = "0", paramLabel = "NAME", description = "The account's name (a-z, 0-9, '.', '_', '-').")
    String name;
    @Option(names = "--owner-key", required = true, paramLabel = "KEY", description = "The owner's private key file.")
    Path ownerKey;

    @Override public Integer call() throws Exception {
      SigningKey owner = KeyFiles.readPrivateKey(ownerKey);
      try (BulwarkClient client = cluster.client()) {
        return report(spec.commandLine().getOut(), "opened",
            client.submit(payload(new LedgerOp.OpenAccount(name, owner.publicKey()), owner)));
      }
    }
  }

  @Command(name = "deposit", mixinStandardHelpOptions = true,
      description = "Credit an account, signed with the admin key (default: the cluster's admin.key).")
  static final class Deposit implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;
    @picocli.CommandLine.Mixin
    ClusterOption cluster;
    @Parameters(index = "0", paramLabel = "NAME") String name;
    @Parameters(index = "1", paramLabel = "AMOUNT") long amount;
    @Option(names = "--admin-key", paramLabel = "KEY", description = "The admin's private key (default: DIR/admin.key).")
    Path adminKey;
    @Option(names = "--reference", description = "A unique reference (default: a random one); a reused one is refused.")
    String reference;

    @Override public Integer call() throws Exception {
      SigningKey admin = cluster.adminKey(adminKey);
      Bytes ref = reference != null ? Bytes.utf8(reference) : randomReference();
      try (BulwarkClient client = cluster.client()) {
        return report(spec.commandLine().getOut(), "deposited " + amount,
            client.submit(payload(new LedgerOp.Deposit(name, amount, ref), admin)));
      }
    }
  }

  @Command(name = "withdraw", mixinStandardHelpOptions = true,
      description = "Debit an account, signed with the admin key (default: the cluster's admin.key).")
  static final class Withdraw implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;
    @picocli.CommandLine.Mixin
    ClusterOption cluster;
    @Parameters(index = "0", paramLabel = "NAME") String name;
    @Parameters(index = "1", paramLabel = "AMOUNT") long amount;
    @Option(names = "--admin-key", paramLabel = "KEY", description = "The admin's private key (default: DIR/admin.key).")
    Path adminKey;

    @Override public Integer call() throws Exception {
      SigningKey admin = cluster.adminKey(adminKey);
      try (BulwarkClient client = cluster.client()) {
        return report(spec.commandLine().getOut(), "withdrew " + amount,
            client.submit(payload(new LedgerOp.Withdraw(name, amount, randomReference()), admin)));
      }
    }
  }

  @Command(name = "transfer", mixinStandardHelpOptions = true,
      description = {"Move funds, signed with the source account's owner key, or unsigned from a trusted gateway (--gateway);",
          "the nonce comes from a proven read of the account."})
  static final class Transfer implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;
    @picocli.CommandLine.Mixin
    ClusterOption cluster;
    @Parameters(index = "0", paramLabel = "FROM") String from;
    @Parameters(index = "1", paramLabel = "TO") String to;
    @Parameters(index = "2", paramLabel = "AMOUNT") long amount;
    @Option(names = "--owner-key", paramLabel = "KEY", description = "The source account owner's private key.")
    Path ownerKey;
    @Option(names = "--gateway", paramLabel = "NAME",
        description = "Send the transfer unsigned, as trusted gateway NAME (its certificate from 'bulwark cluster issue-client --gateway').")
    String gateway;

    @Override public Integer call() throws Exception {
      if ((ownerKey == null) == (gateway == null)) {
        throw new UserError("give either --owner-key (a signed transfer) or --gateway (an unsigned one from a trusted gateway)");
      }
      SigningKey owner = ownerKey == null ? null : KeyFiles.readPrivateKey(ownerKey);
      ClientConfig config = cluster.config("cli").withLanes(1);
      try (BulwarkClient client = new BulwarkClient(gateway == null ? config : cluster.asGateway(config, gateway))) {
        var entry = client.query(Ledger.ACCOUNTS.keyBytes(from));
        if (entry.value().isEmpty()) {
          spec.commandLine().getOut().println("refused: NO_SUCH_ACCOUNT there is no account " + from);
          return 1;
        }
        long nonce = Account.CODEC.decode(entry.value().get()).nonce() + 1;
        LedgerOp.Transfer transfer = new LedgerOp.Transfer(from, to, amount, nonce);
        Bytes request = owner != null ? payload(transfer, owner)
            : LedgerRequest.CODEC.encode(LedgerRequest.viaGateway(transfer, gateway));
        return report(spec.commandLine().getOut(), "transferred " + amount + " to " + to, client.submit(request));
      }
    }
  }

  @Command(name = "balance", mixinStandardHelpOptions = true,
      description = "An account's balance, with its proof checked against the latest signed batch head.")
  static final class Balance implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;
    @picocli.CommandLine.Mixin
    ClusterOption cluster;
    @Parameters(index = "0", paramLabel = "NAME") String name;

    @Override public Integer call() throws Exception {
      try (BulwarkClient client = cluster.client()) {
        var entry = client.query(Ledger.ACCOUNTS.keyBytes(name));
        var head = entry.head().head();
        PrintWriter out = spec.commandLine().getOut();
        if (entry.value().isEmpty()) {
          out.printf("%s: no such account (absence proven under the signed head of batch %d)%n", name, head.batchNumber());
          return 1;
        }
        Account a = Account.CODEC.decode(entry.value().get());
        out.printf("%s: balance %,d, nonce %d (proven under the signed head of batch %d, state root %s)%n", name,
            a.balance(), a.nonce(), head.batchNumber(), head.stateRoot().shortHex());
        return 0;
      }
    }
  }

  @Command(name = "history", mixinStandardHelpOptions = true,
      description = {"An account's operations in the order they were applied, oldest first.",
          "The list comes from the replica's index and is not proven; each operation's receipt is its proof."})
  static final class History implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;
    @picocli.CommandLine.Mixin
    ClusterOption cluster;
    @Parameters(index = "0", paramLabel = "NAME") String name;
    @Option(names = "--limit", defaultValue = "100", description = "At most this many operations (1 to 100000, default ${DEFAULT-VALUE}).")
    int limit;
    @Option(names = "--from-batch", defaultValue = "0", description = "Start at this batch (default: the beginning).")
    long fromBatch;

    @Override public Integer call() throws Exception {
      if (limit < 1 || limit > 100_000) {
        throw new UserError("--limit must be between 1 and 100000");
      }
      if (fromBatch < 0) {
        throw new UserError("--from-batch must be at least 0");
      }
      PrintWriter out = spec.commandLine().getOut();
      try (BulwarkClient client = cluster.client()) {
        long batch = fromBatch;
        int index = 0;
        int shown = 0;
        boolean more = true;
        while (more && shown < limit) {
          int page = Math.min(LedgerHistory.PAGE_MAX, limit - shown);
          LedgerHistory.Page answer = LedgerHistory.PAGE.decode(client.appQuery(LedgerHistory.QUERY,
              LedgerHistory.REQUEST.encode(new LedgerHistory.Request(name, batch, index, page))));
          for (LedgerHistory.Item item : answer.items()) {
            out.printf("batch %d #%d  %s%n", item.batchNumber(), item.indexInBatch(), describe(item.request()));
            batch = item.batchNumber();
            index = item.indexInBatch() + 1;
          }
          shown += answer.items().size();
          more = answer.more();
        }
        if (shown == 0) {
          out.printf("%s: no operations%s%n", name, fromBatch > 0 ? " from batch " + fromBatch : "");
        } else if (more) {
          out.printf("... more from batch %d (use --from-batch or a larger --limit)%n", batch);
        }
        return 0;
      }
    }

    static String describe(LedgerRequest request) {
      String by = switch (request.authority()) {
        case LedgerRequest.Signed s -> "signed by " + s.signer().fingerprint();
        case LedgerRequest.Gateway g -> "unsigned, from gateway " + g.name();
      };
      String what = switch (request.op()) {
        case LedgerOp.OpenAccount o -> "open " + o.account();
        case LedgerOp.Deposit d -> "deposit " + d.amount() + " to " + d.account();
        case LedgerOp.Withdraw w -> "withdraw " + w.amount() + " from " + w.account();
        case LedgerOp.Transfer t -> "transfer " + t.amount() + " from " + t.from() + " to " + t.to() + " (nonce " + t.nonce() + ")";
      };
      return what + ", " + by;
    }
  }

  private static Bytes randomReference() {
    byte[] r = new byte[16];
    new SecureRandom().nextBytes(r);
    return Bytes.adopt(r);
  }
}
