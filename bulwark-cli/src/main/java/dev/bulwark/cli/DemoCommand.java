package dev.bulwark.cli;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.app.StateMirror;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.receipt.AuditResult;
import dev.bulwark.core.receipt.Auditor;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.ReceiptJson;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.core.state.AuthenticatedMap;
import dev.bulwark.ledger.Account;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.ledger.LedgerResult;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.server.engine.EngineConfig;
import dev.bulwark.server.engine.EngineTables;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.server.raft.InProcessCluster;
import dev.bulwark.server.raft.RaftSettings;
import dev.bulwark.server.raft.ReplicaServer;
import dev.bulwark.store.keys.KeyFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The demo: a three-replica ledger on this machine. Accounts, deposits and a concurrent stream
 * of signed transfers; the leader is stopped in the middle and another takes over; the old one
 * comes back and catches up; then every receipt, a balance proof and the log of batch heads are
 * checked offline, as a user or an auditor would.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run a three-replica ledger on 127.0.0.1, stop its leader mid-load, and check every receipt.")
final class DemoCommand implements Runnable {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--dir", description = "Directory for the replicas' data and the receipts (default: a temporary one, deleted at the end).")
  Path directory;

  @Option(names = "--transfers", defaultValue = "240", description = "Transfers to send, spread over 6 accounts (default: ${DEFAULT-VALUE}).")
  int transfers;

  private PrintWriter out;
  private static final int ACCOUNTS = 6;

  @Override
  public void run() {
    if (transfers < ACCOUNTS || transfers > 100_000) {
      throw new UserError("--transfers must be between " + ACCOUNTS + " and 100000");
    }
    out = spec.commandLine().getOut();
    boolean temporary = directory == null;
    Directories.requireFreshOrAbsent(directory, "the demo starts a fresh cluster");
    Path dir = temporary ? Directories.temporary("bulwark-demo-") : directory;
    try {
      demo(dir);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted");
    } finally {
      if (temporary) {
        Directories.deleteTree(dir);
      }
      out.flush();
    }
  }

  private void step(String text) {
    out.println(text);
    out.flush();
  }

  private void demo(Path dir) throws InterruptedException {
    SecureRandom random = new SecureRandom();
    SigningKey operator = SigningKey.generate(random);
    SigningKey admin = SigningKey.generate(random);
    Ledger ledger = new Ledger(admin.publicKey());
    step("1. Start three replicas on 127.0.0.1 (Raft by Apache Ratis, a RocksDB store each) in " + dir);
    long t0 = System.nanoTime();
    try (InProcessCluster<LedgerRequest, LedgerResult> cluster = new InProcessCluster<>(3, dir, ledger,
        EngineConfig.defaults("bulwark-demo"), RaftSettings.DEFAULT, operator)) {
      var leader = cluster.awaitLeader(30_000);
      out.printf("   %s leads, elected %d ms after start; operator key %s%n", leader.id(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), operator.publicKey().fingerprint());

      step("2. Open " + ACCOUNTS + " accounts, each signed by its owner, and deposit 1,000 into each (signed by the admin key)");
      List<SigningKey> owners = new ArrayList<>();
      for (int i = 0; i < ACCOUNTS; i++) {
        SigningKey owner = SigningKey.generate(random);
        owners.add(owner);
        confirm(cluster, request("owner-" + i, 1, LedgerRequest.sign(new LedgerOp.OpenAccount(name(i), owner.publicKey()), owner)));
        confirm(cluster, request("admin", i + 1, LedgerRequest.sign(new LedgerOp.Deposit(name(i), 1_000,
            Bytes.utf8("deposit-" + i)), admin)));
      }
      SignedBatchHead firstHead = leader.replica().lastHead().orElseThrow();

      int each = transfers / ACCOUNTS;
      step("3. Send " + each * ACCOUNTS + " transfers from " + ACCOUNTS + " owners at once; stop the leader a third of the way in");
      AtomicInteger confirmed = new AtomicInteger();
      List<Receipt> receipts = java.util.Collections.synchronizedList(new ArrayList<>());
      List<CompletableFuture<Void>> payers = new ArrayList<>();
      long start = System.nanoTime();
      var payerThreads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
      for (int i = 0; i < ACCOUNTS; i++) {
        int from = i;
        payers.add(CompletableFuture.runAsync(() -> {
          for (int n = 1; n <= each; n++) {
            int to = (from + 1 + (n % (ACCOUNTS - 1))) % ACCOUNTS;
            Outcome o = send(cluster, request("payer-" + from, n,
                LedgerRequest.sign(new LedgerOp.Transfer(name(from), name(to), 1 + n % 5, n), owners.get(from))));
            receipts.add(applied(o).receipt());
            confirmed.incrementAndGet();
          }
        }, payerThreads));
      }
      for (int i = 0; i < 3000 && confirmed.get() < each * ACCOUNTS / 3; i++) {
        Thread.sleep(5);
      }
      String stopped = cluster.awaitLeader(30_000).id();
      long stopAt = System.nanoTime();
      int before = confirmed.get();
      cluster.stop(stopped);
      out.printf("   stopped leader %s after %d confirmed transfers%n", stopped, before);
      for (int i = 0; i < 60_000 && confirmed.get() == before && !allDone(payers); i++) {
        Thread.sleep(1);
      }
      var next = cluster.awaitLeader(30_000);
      out.printf("   %s took over; the next confirmation came %d ms after the stop%n", next.id(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopAt));
      CompletableFuture.allOf(payers.toArray(CompletableFuture[]::new)).join();
      payerThreads.shutdown();
      double seconds = (System.nanoTime() - start) / 1e9;
      out.printf("   all %d transfers confirmed, each exactly once, in %.1f s (%.0f/s, with the failover)%n",
          confirmed.get(), seconds, confirmed.get() / seconds);

      step("4. Restart " + stopped + " from its directory; it catches up from the new leader");
      cluster.start(stopped);
      var reference = next.replica().applied();
      ReplicaServer<LedgerRequest, LedgerResult> back = cluster.replica(stopped).orElseThrow();
      for (int i = 0; i < 3000 && back.replica().applied().batchNumber() < reference.batchNumber(); i++) {
        Thread.sleep(10);
      }
      for (var r : cluster.running()) {
        var a = r.replica().applied();
        out.printf("   %s: batch %d, log index %d, state digest %s%n", r.id(), a.batchNumber(), a.logIndex(),
            a.stateDigest().shortHex());
      }

      step("5. Check everything offline, with nothing but the operator's public key");
      int valid = 0;
      for (Receipt r : receipts) {
        if (r.verify(operator.publicKey()).isValid()) {
          valid++;
        }
      }
      out.printf("   %d of %d receipts verify (signed batch head + inclusion proof + state proofs)%n", valid, receipts.size());
      var store = next.replica().objects().store();
      long total = 0;
      for (int i = 0; i < ACCOUNTS; i++) {
        total += StateMirror.get(store, Ledger.ACCOUNTS, name(i)).map(Account::balance).orElseThrow();
      }
      out.printf("   balances add up to %,d: deposits minus withdrawals, nothing created or lost%n", total);
      SignedBatchHead lastHead = next.replica().lastHead().orElseThrow();
      var proof = next.replica().state().prove(lastHead.head().batchNumber(), Ledger.ACCOUNTS.keyBytes(name(0)));
      var checked = Ledger.ACCOUNTS.check(lastHead.head().stateRoot(), name(0), proof);
      if (checked instanceof AuthenticatedMap.Checked.Present<Account> present && lastHead.verify(operator.publicKey())) {
        out.printf("   %s's balance %,d is proven by %d trie nodes (%d bytes) under the signed head of batch %d%n", name(0),
            present.value().balance(), proof.nodes().size(), proof.byteSize(), lastHead.head().batchNumber());
      }
      var consistency = EngineTables.CONFIRMATIONS.consistencyProof(store, firstHead.head().logSize(),
          lastHead.head().logSize());
      AuditResult audit = Auditor.audit(firstHead, lastHead, consistency, operator.publicKey());
      out.printf("   auditor, batch %d vs batch %d across the failover: %s%n", firstHead.head().batchNumber(),
          lastHead.head().batchNumber(), audit.summary());

      Path receiptDir = dir.resolve("receipts");
      writeReceipt(receiptDir, operator, receipts.getLast());
      out.println("   a receipt to check yourself: bin/bulwark verify receipt " + receiptDir.resolve("receipt.json")
          + " --operator-key " + receiptDir.resolve("operator.pub") + (directory == null ? "   (keep it with --dir)" : ""));
      if (valid != receipts.size() || total != ACCOUNTS * 1_000L || !(audit instanceof AuditResult.Consistent)) {
        throw new IllegalStateException("the demo found an inconsistency; see above");
      }
      step("6. Stop the cluster.");
    }
    step("Done.");
  }

  private static String name(int i) {
    return List.of("alice", "bob", "carol", "dave", "erin", "frank").get(i);
  }

  private static ClientRequest request(String client, long sequence, LedgerRequest r) {
    return new ClientRequest(Bytes.utf8(client), sequence, LedgerRequest.CODEC.encode(r));
  }

  private static Outcome send(InProcessCluster<LedgerRequest, LedgerResult> cluster, ClientRequest r) {
    try {
      return cluster.send(r, 2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  private static void confirm(InProcessCluster<LedgerRequest, LedgerResult> cluster, ClientRequest r) {
    applied(send(cluster, r));
  }

  private static Outcome.Confirmed applied(Outcome o) {
    if (o instanceof Outcome.Confirmed c && c.result() instanceof ResultEnvelope.Applied) {
      return c;
    }
    throw new IllegalStateException("not applied: " + o);
  }

  private static boolean allDone(List<CompletableFuture<Void>> futures) {
    return futures.stream().allMatch(CompletableFuture::isDone);
  }

  private void writeReceipt(Path receiptDir, SigningKey operator, Receipt receipt) {
    try {
      Files.createDirectories(receiptDir);
      KeyFiles.writePublicKey(receiptDir.resolve("operator.pub"), operator.publicKey(), true);
      Files.writeString(receiptDir.resolve("receipt.json"), ReceiptJson.write(receipt));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the receipt to " + receiptDir, e);
    }
  }



}
