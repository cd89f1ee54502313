package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.app.StateMirror;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.core.receipt.AuditResult;
import dev.bulwark.core.receipt.Auditor;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.ledger.LedgerResult;
import dev.bulwark.server.engine.EngineConfig;
import dev.bulwark.server.engine.EngineTables;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups taken from a running replica, restored with real Ratis and RocksDB: a whole cluster
 * whose data directories were all deleted comes back from one backup with every transfer
 * confirmed before it and the same signed heads, and goes on from there; a single replica that
 * lost its disk is restored and catches up with a living cluster.
 */
class BackupRestoreTest {
  @TempDir
  Path dir;

  static final SigningKey ADMIN = SigningKey.generate(new SplittableRandom(21));
  static final SigningKey OPERATOR = SigningKey.generate(new SplittableRandom(22));
  static final int ACCOUNTS = 4;
  final Ledger ledger = new Ledger(ADMIN.publicKey());
  final EngineConfig config = EngineConfig.defaults("backup-test");
  final Map<String, ReplicaServer<LedgerRequest, LedgerResult>> replicas = new ConcurrentHashMap<>();
  final List<SigningKey> owners = new ArrayList<>();
  final long[] nonces = new long[ACCOUNTS];
  ReplicaServer.Members members;

  void start(String id) {
    replicas.put(id, ReplicaServer.start(id, members, dir.resolve(id), ledger, config, RaftSettings.DEFAULT, OPERATOR,
        InstantSource.system()));
  }

  void startAll() throws InterruptedException {
    List<Thread> starting = new ArrayList<>();
    for (String id : members.addresses().keySet()) {
      starting.add(Thread.ofPlatform().start(() -> start(id)));
    }
    for (Thread t : starting) {
      t.join(60_000);
    }
  }

  void stopAll() throws InterruptedException {
    List<Thread> closing = new ArrayList<>();
    for (var r : replicas.values()) {
      closing.add(Thread.ofPlatform().start(r::close));
    }
    for (Thread t : closing) {
      t.join(60_000);
    }
    replicas.clear();
  }

  @AfterEach
  void closeAll() throws InterruptedException {
    stopAll();
  }

  Outcome.Confirmed send(ClientRequest request) throws Exception {
    List<String> ids = new ArrayList<>(members.addresses().keySet());
    String target = ids.getFirst();
    for (int attempt = 0; attempt < 600; attempt++) {
      var replica = replicas.get(target);
      Outcome outcome = replica == null ? new Outcome.NotLeader(Optional.empty())
          : replica.submit(request).get(30, TimeUnit.SECONDS);
      switch (outcome) {
        case Outcome.Confirmed c -> {
          assertThat(c.result()).as("%s", c.result()).isInstanceOf(ResultEnvelope.Applied.class);
          return c;
        }
        case Outcome.NotLeader n ->
            target = n.leaderId().filter(replicas::containsKey).orElse(ids.get((ids.indexOf(target) + 1) % ids.size()));
        case Outcome.Rejected r -> throw new AssertionError("rejected: " + r);
        default -> { } // unknown, not committed, busy: the same request again
      }
      Thread.sleep(attempt < 20 ? 10 : 50);
    }
    throw new AssertionError("no confirmation for " + request + " after 600 attempts");
  }

  ReplicaServer<LedgerRequest, LedgerResult> awaitLeader() throws InterruptedException {
    for (int i = 0; i < 1000; i++) {
      for (var r : replicas.values()) {
        if (r.isSequencing()) {
          return r;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no leader within 20 s");
  }

  void awaitApplied(ReplicaServer<?, ?> r, long batch) throws InterruptedException {
    for (int i = 0; i < 1500 && r.replica().applied().batchNumber() < batch; i++) {
      Thread.sleep(20);
    }
    assertThat(r.replica().applied().batchNumber()).as("replica %s caught up", r.id()).isGreaterThanOrEqualTo(batch);
  }

  void startCluster() throws Exception {
    Map<String, String> addresses = new LinkedHashMap<>();
    for (int i = 1; i <= 3; i++) {
      addresses.put("r" + i, "127.0.0.1:" + InProcessCluster.freeLoopbackPort());
    }
    members = new ReplicaServer.Members("backup", addresses);
    startAll();
    awaitLeader();
    for (int i = 0; i < ACCOUNTS; i++) {
      SigningKey owner = SigningKey.generate(new SplittableRandom(300 + i));
      owners.add(owner);
      send(new ClientRequest(Bytes.utf8("owner-" + i), 1, LedgerRequest.CODEC.encode(
          LedgerRequest.sign(new LedgerOp.OpenAccount("acct-" + i, owner.publicKey()), owner))));
      send(new ClientRequest(Bytes.utf8("bank"), i + 1, LedgerRequest.CODEC.encode(
          LedgerRequest.sign(new LedgerOp.Deposit("acct-" + i, 1_000, Bytes.utf8("d" + i)), ADMIN))));
    }
  }

  /** {@code count} transfers, each from account i to i+1 of amount 1 + i; returns their receipts. */
  List<Receipt> transfers(int count) throws Exception {
    List<Receipt> receipts = new ArrayList<>();
    for (int n = 0; n < count; n++) {
      int from = n % ACCOUNTS;
      long nonce = ++nonces[from];
      receipts.add(send(new ClientRequest(Bytes.utf8("owner-" + from), 1 + nonce, LedgerRequest.CODEC.encode(
          LedgerRequest.sign(new LedgerOp.Transfer("acct-" + from, "acct-" + ((from + 1) % ACCOUNTS), 1 + from, nonce),
              owners.get(from))))).receipt());
    }
    return receipts;
  }

  Map<String, Long> balances(ReplicaServer<?, ?> r) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (int i = 0; i < ACCOUNTS; i++) {
      out.put("acct-" + i, StateMirror.get(r.replica().objects().store(), Ledger.ACCOUNTS, "acct-" + i).orElseThrow().balance());
    }
    return out;
  }

  static List<SignedBatchHead> heads(ReplicaServer<?, ?> r, long upTo) {
    List<SignedBatchHead> out = new ArrayList<>();
    for (long b = 0; b <= upTo; b++) {
      out.add(EngineTables.HEADS.get(r.replica().objects().store(), b).orElseThrow());
    }
    return out;
  }

  Path backupOf(ReplicaServer<?, ?> r, Path file) throws IOException {
    try (var checkpoint = Backups.take(r, InstantSource.system()); OutputStream out = Files.newOutputStream(file)) {
      checkpoint.writeZip(out);
    }
    return file;
  }

  @Test
  void aWholeClusterComesBackFromOneBackupAfterEveryDataDirectoryWasDeleted() throws Exception {
    startCluster();
    transfers(12);
    var leader = awaitLeader();
    long confirmedBatch = leader.replica().applied().batchNumber();
    String followerId = members.addresses().keySet().stream().filter(id -> !id.equals(leader.id())).findFirst().orElseThrow();
    var follower = replicas.get(followerId);
    awaitApplied(follower, confirmedBatch);
    Map<String, Long> before = balances(follower);
    // Online: the follower keeps applying while its backup is taken and written.
    Path backup = backupOf(follower, dir.resolve("backup.zip"));
    Backups.Manifest manifest = Backups.verify(backup, OPERATOR.publicKey());
    assertThat(manifest.batchNumber()).isEqualTo(confirmedBatch);
    assertThat(manifest.replica()).isEqualTo(followerId);
    assertThat(manifest.cluster()).isEqualTo("backup");
    long backupBatch = manifest.batchNumber();
    List<SignedBatchHead> seenBefore = heads(leader, backupBatch);
    assertThat(manifest.head()).isEqualTo(seenBefore.getLast());
    // Transfers after the backup: they are lost with the data directories, the others must not be.
    transfers(4);

    stopAll();
    for (String id : members.addresses().keySet()) {
      dev.bulwark.store.FileTrees.delete(dir.resolve(id));
    }
    for (String id : members.addresses().keySet()) {
      Backups.restore(backup, OPERATOR.publicKey(), members, id, dir.resolve(id));
    }
    assertThatThrownBy(() -> Backups.restore(backup, OPERATOR.publicKey(), members, "r1", dir.resolve("r1")))
        .hasMessageContaining("already holds data");
    startAll();
    var restoredLeader = awaitLeader();
    for (var r : replicas.values()) {
      awaitApplied(r, backupBatch);
      assertThat(r.replica().applied().batchNumber()).as("replica %s applied nothing beyond the backup", r.id())
          .isEqualTo(backupBatch);
      assertThat(r.replica().applied().stateDigest()).isEqualTo(manifest.stateDigest());
      assertThat(balances(r)).isEqualTo(before);
      assertThat(heads(r, backupBatch)).as("replica %s's heads up to the backup", r.id()).isEqualTo(seenBefore);
      // The restore recorded the backup's term: no restored replica votes or leads in a term below it.
      assertThat(r.status().term()).isGreaterThan(manifest.logTerm());
    }
    long total = balances(restoredLeader).values().stream().mapToLong(Long::longValue).sum();
    assertThat(total).isEqualTo(ACCOUNTS * 1_000L);

    // The restored cluster takes new transfers; its new heads chain from the heads seen before.
    // The nonces of the lost transfers are free again.
    for (int i = 0; i < ACCOUNTS; i++) {
      nonces[i] = StateMirror.get(restoredLeader.replica().objects().store(), Ledger.ACCOUNTS, "acct-" + i)
          .orElseThrow().nonce();
    }
    List<Receipt> after = transfers(4);
    for (Receipt receipt : after) {
      assertThat(receipt.verify(OPERATOR.publicKey()).isValid()).isTrue();
    }
    var now = awaitLeader();
    long latest = now.replica().applied().batchNumber();
    assertThat(latest).isGreaterThan(backupBatch);
    SignedBatchHead newest = EngineTables.HEADS.get(now.replica().objects().store(), latest).orElseThrow();
    for (SignedBatchHead old : seenBefore) {
      if (old.head().logSize() == 0) {
        continue;
      }
      var proof = EngineTables.CONFIRMATIONS.consistencyProof(now.replica().objects().store(), old.head().logSize(),
          newest.head().logSize());
      assertThat(Auditor.audit(old, newest, proof, OPERATOR.publicKey())).as("batch %d", old.head().batchNumber())
          .isInstanceOf(AuditResult.Consistent.class);
    }
    assertThat(EngineTables.HEADS.get(now.replica().objects().store(), backupBatch + 1).orElseThrow().head()
        .previousHeadHash()).isEqualTo(seenBefore.getLast().head().hash());
    for (var r : replicas.values()) {
      awaitApplied(r, latest);
      assertThat(r.replica().applied().stateDigest()).isEqualTo(now.replica().applied().stateDigest());
    }
  }

  @Test
  void aReplicaThatLostItsDiskIsRestoredAndCatchesUpWithTheLivingCluster() throws Exception {
    startCluster();
    transfers(6);
    var leader = awaitLeader();
    Path backup = backupOf(leader, dir.resolve("backup.zip"));
    transfers(6);
    String leading = awaitLeader().id();
    String lost = members.addresses().keySet().stream().filter(id -> !id.equals(leading)).findFirst().orElseThrow();
    replicas.remove(lost).close();
    dev.bulwark.store.FileTrees.delete(dir.resolve(lost));
    transfers(4);
    Backups.restore(backup, OPERATOR.publicKey(), members, lost, dir.resolve(lost));
    start(lost);
    transfers(2);
    var now = awaitLeader();
    var restored = replicas.get(lost);
    awaitApplied(restored, now.replica().applied().batchNumber());
    assertThat(restored.replica().applied().stateDigest()).isEqualTo(now.replica().applied().stateDigest());
    assertThat(balances(restored)).isEqualTo(balances(now));
  }

  @Test
  void aRestoreRefusesABackupOfAnotherClusterOrSignedByAnotherKey() throws Exception {
    startCluster();
    transfers(2);
    Path backup = backupOf(awaitLeader(), dir.resolve("backup.zip"));
    var other = new ReplicaServer.Members("another", members.addresses());
    assertThatThrownBy(() -> Backups.restore(backup, OPERATOR.publicKey(), other, "r1", dir.resolve("x1")))
        .hasMessageContaining("is a backup of cluster 'backup', not of 'another'");
    assertThatThrownBy(() -> Backups.verify(backup, ADMIN.publicKey()))
        .hasMessageContaining("does not verify with the operator key");
    // A backup cut short (no manifest at its end) is refused.
    byte[] whole = Files.readAllBytes(backup);
    Path cut = dir.resolve("cut.zip");
    Files.write(cut, java.util.Arrays.copyOf(whole, whole.length / 2));
    assertThatThrownBy(() -> Backups.verify(cut, OPERATOR.publicKey())).isInstanceOf(Backups.BackupException.class);
  }
}
