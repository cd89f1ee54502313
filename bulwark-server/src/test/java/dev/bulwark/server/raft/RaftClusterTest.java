package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.app.StateMirror;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.receipt.AuditResult;
import dev.bulwark.core.receipt.Auditor;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.SignedBatchHead;
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
import java.io.IOException;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three replicas in one JVM on 127.0.0.1, real Ratis and RocksDB: a concurrent transfer
 * workload, the leader closed mid-load, the other two elect a leader and go on, the old leader
 * restarts and catches up. Then every confirmed transfer is there exactly once, balances are
 * conserved and non-negative, and all replicas agree on the applied batch and state digest.
 */
class RaftClusterTest {
  @TempDir
  Path dir;

  static final SigningKey ADMIN = SigningKey.generate(new SplittableRandom(11));
  static final SigningKey OPERATOR = SigningKey.generate(new SplittableRandom(12));
  final Ledger ledger = new Ledger(ADMIN.publicKey());
  final EngineConfig config = EngineConfig.defaults("raft-test");
  RaftSettings raftSettings = RaftSettings.DEFAULT;
  final Map<String, ReplicaServer<LedgerRequest, LedgerResult>> replicas = new ConcurrentHashMap<>();
  ReplicaServer.Members members;

  void startCluster(int size) throws IOException {
    Map<String, String> addresses = new LinkedHashMap<>();
    for (int i = 0; i < size; i++) {
      addresses.put("r" + i, "127.0.0.1:" + InProcessCluster.freeLoopbackPort());
    }
    members = new ReplicaServer.Members("test", addresses);
    for (String id : addresses.keySet()) {
      start(id);
    }
  }

  void start(String id) {
    replicas.put(id, ReplicaServer.start(id, members, dir.resolve(id), ledger, config, raftSettings, OPERATOR,
        InstantSource.system()));
  }

  @AfterEach
  void closeAll() throws InterruptedException {
    // Ratis takes seconds to close a server: close them side by side.
    List<Thread> closing = new ArrayList<>();
    for (var r : replicas.values()) {
      closing.add(Thread.ofPlatform().start(r::close));
    }
    for (Thread t : closing) {
      t.join(60_000);
    }
    replicas.clear();
  }

  /** Sends a request to whoever leads, retrying the same (client, sequence) until it is confirmed. */
  Outcome.Confirmed send(ClientRequest request) throws Exception {
    String target = members.addresses().keySet().iterator().next();
    for (int attempt = 0; attempt < 600; attempt++) {
      var replica = replicas.get(target);
      Outcome outcome = replica == null ? new Outcome.NotLeader(java.util.Optional.empty())
          : replica.submit(request).get(30, TimeUnit.SECONDS);
      switch (outcome) {
        case Outcome.Confirmed c -> {
          return c;
        }
        case Outcome.NotLeader n -> target = n.leaderId().filter(replicas::containsKey).orElse(next(target));
        case Outcome.Rejected r -> throw new AssertionError("rejected: " + r);
        default -> { } // unknown, not committed, busy: retry the same request
      }
      Thread.sleep(attempt < 20 ? 10 : 50);
    }
    throw new AssertionError("no confirmation for " + request + " after 600 attempts");
  }

  private String next(String id) {
    List<String> ids = new ArrayList<>(members.addresses().keySet());
    return ids.get((ids.indexOf(id) + 1) % ids.size());
  }

  ReplicaServer<LedgerRequest, LedgerResult> awaitLeader() throws InterruptedException {
    for (int i = 0; i < 600; i++) {
      for (var r : replicas.values()) {
        if (r.isSequencing()) {
          return r;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no leader within 12 s");
  }

  static LedgerResult applied(Outcome.Confirmed c) {
    assertThat(c.result()).as("%s", c.result()).isInstanceOf(ResultEnvelope.Applied.class);
    return LedgerResult.CODEC.decode(((ResultEnvelope.Applied) c.result()).result());
  }

  @Test
  void survivesTheLossOfItsLeaderWithoutLosingOrRepeatingATransfer() throws Exception {
    startCluster(3);
    awaitLeader();
    int accounts = 6;
    List<SigningKey> owners = new ArrayList<>();
    for (int i = 0; i < accounts; i++) {
      SigningKey owner = SigningKey.generate(new SplittableRandom(200 + i));
      owners.add(owner);
      applied(send(new ClientRequest(Bytes.utf8("setup-" + i), 1, LedgerRequest.CODEC.encode(
          LedgerRequest.sign(new LedgerOp.OpenAccount("acct-" + i, owner.publicKey()), owner)))));
      applied(send(new ClientRequest(Bytes.utf8("setup-" + i), 2, LedgerRequest.CODEC.encode(
          LedgerRequest.sign(new LedgerOp.Deposit("acct-" + i, 1_000, Bytes.utf8("d" + i)), ADMIN)))));
    }

    AtomicBoolean killed = new AtomicBoolean();
    AtomicInteger confirmedCount = new AtomicInteger();
    List<Receipt> receipts = java.util.Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(accounts);
    List<Future<Integer>> workers = new ArrayList<>();
    int transfersEach = 30;
    for (int i = 0; i < accounts; i++) {
      int from = i;
      workers.add(pool.submit(() -> {
        SplittableRandom random = new SplittableRandom(from);
        for (int n = 1; n <= transfersEach; n++) {
          int to = (from + 1 + random.nextInt(accounts - 1)) % accounts;
          ClientRequest r = new ClientRequest(Bytes.utf8("payer-" + from), n, LedgerRequest.CODEC.encode(
              LedgerRequest.sign(new LedgerOp.Transfer("acct-" + from, "acct-" + to, 3, n), owners.get(from))));
          Outcome.Confirmed c = send(r);
          applied(c);
          receipts.add(c.receipt());
          confirmedCount.incrementAndGet();
        }
        return transfersEach;
      }));
    }
    // Mid-load: the leader goes away.
    for (int i = 0; i < 1000 && confirmedCount.get() < accounts * transfersEach / 3; i++) {
      Thread.sleep(10);
    }
    var oldLeader = awaitLeader();
    String oldId = oldLeader.id();
    replicas.remove(oldId);
    oldLeader.close();
    killed.set(true);
    var newLeader = awaitLeader();
    assertThat(newLeader.id()).isNotEqualTo(oldId);

    for (Future<Integer> w : workers) {
      assertThat(w.get(120, TimeUnit.SECONDS)).isEqualTo(transfersEach);
    }
    pool.shutdown();
    assertThat(killed).isTrue();

    // The old leader comes back from its directory and catches up.
    start(oldId);
    long target = newLeader.replica().applied().logIndex();
    for (int i = 0; i < 1500 && replicas.get(oldId).replica().applied().logIndex() < target; i++) {
      Thread.sleep(20);
    }

    // Every replica: the same batches, the same digest, conserved balances, each transfer once.
    var reference = newLeader.replica().applied();
    for (var r : replicas.values()) {
      for (int i = 0; i < 1500 && r.replica().applied().batchNumber() < reference.batchNumber(); i++) {
        Thread.sleep(20);
      }
      assertThat(r.replica().applied().batchNumber()).as("replica %s", r.id()).isEqualTo(reference.batchNumber());
      assertThat(r.replica().applied().stateDigest()).as("replica %s", r.id()).isEqualTo(reference.stateDigest());
      long total = 0;
      for (int i = 0; i < accounts; i++) {
        Account a = StateMirror.get(r.replica().objects().store(), Ledger.ACCOUNTS, "acct-" + i).orElseThrow();
        assertThat(a.balance()).isNotNegative();
        assertThat(a.nonce()).as("transfers applied from acct-%d on %s", i, r.id()).isEqualTo(transfersEach);
        total += a.balance();
      }
      assertThat(total).isEqualTo(accounts * 1_000L);
      assertThat(r.replica().state().latestRoot()).isEqualTo(r.replica().lastHead().orElseThrow().head().stateRoot());
    }
    for (Receipt receipt : receipts) {
      assertThat(receipt.verify(OPERATOR.publicKey()).isValid()).isTrue();
    }
    // The heads form one chain across the failover.
    var store = newLeader.replica().objects().store();
    SignedBatchHead previous = null;
    for (long b = 0; b <= reference.batchNumber(); b++) {
      SignedBatchHead head = EngineTables.HEADS.get(store, b).orElseThrow();
      if (previous != null) {
        assertThat(head.head().previousHeadHash()).isEqualTo(previous.head().hash());
        var proof = EngineTables.CONFIRMATIONS.consistencyProof(store, previous.head().logSize(), head.head().logSize());
        assertThat(Auditor.audit(previous, head, proof, OPERATOR.publicKey())).isInstanceOf(AuditResult.Consistent.class);
      }
      previous = head;
    }
  }

  /**
   * The rolling upgrade to batch entry format 2 (docs/operations.md): replicas writing format 1,
   * as builds before it did, then each restarted in turn writing format 2. Each restart replays
   * that replica's own log, format 1 entries included; then every replica agrees.
   */
  @Test
  void aClusterMovesFromEntryFormatOneToTwoOneReplicaAtATime() throws Exception {
    raftSettings = RaftSettings.DEFAULT.writingEntryFormat(1);
    startCluster(3);
    awaitLeader();
    SigningKey owner = SigningKey.generate(new SplittableRandom(311));
    applied(send(new ClientRequest(Bytes.utf8("formats"), 1, LedgerRequest.CODEC.encode(
        LedgerRequest.sign(new LedgerOp.OpenAccount("acct-f", owner.publicKey()), owner)))));
    applied(send(new ClientRequest(Bytes.utf8("formats"), 2, LedgerRequest.CODEC.encode(
        LedgerRequest.sign(new LedgerOp.Deposit("acct-f", 1_000, Bytes.utf8("df")), ADMIN)))));
    applied(send(new ClientRequest(Bytes.utf8("formats-2"), 1, LedgerRequest.CODEC.encode(
        LedgerRequest.sign(new LedgerOp.OpenAccount("acct-g", owner.publicKey()), owner)))));
    int nonce = 0;
    for (; nonce < 5; nonce++) {
      applied(send(new ClientRequest(Bytes.utf8("payer-f"), nonce + 1, LedgerRequest.CODEC.encode(
          LedgerRequest.sign(new LedgerOp.Transfer("acct-f", "acct-g", 7, nonce + 1), owner)))));
    }
    for (var r : replicas.values()) {
      awaitApplied(r, awaitLeader().replica().applied().logIndex());
      assertThat(entryFormats(r)).as("entry formats in %s's log", r.id()).containsExactly(1);
    }

    raftSettings = RaftSettings.DEFAULT;
    for (String id : List.copyOf(members.addresses().keySet())) {
      replicas.remove(id).close();
      start(id);
      awaitApplied(replicas.get(id), awaitLeader().replica().applied().logIndex());
      applied(send(new ClientRequest(Bytes.utf8("payer-f"), nonce + 1, LedgerRequest.CODEC.encode(
          LedgerRequest.sign(new LedgerOp.Transfer("acct-f", "acct-g", 7, nonce + 1), owner)))));
      nonce++;
    }

    var reference = awaitLeader().replica().applied();
    for (var r : replicas.values()) {
      awaitApplied(r, reference.logIndex());
      assertThat(r.replica().applied().stateDigest()).as("replica %s", r.id()).isEqualTo(reference.stateDigest());
      assertThat(entryFormats(r)).as("entry formats in %s's log", r.id()).containsExactly(1, 2);
      Account payer = StateMirror.get(r.replica().objects().store(), Ledger.ACCOUNTS, "acct-f").orElseThrow();
      assertThat(payer.nonce()).isEqualTo(nonce);
      assertThat(payer.balance()).isEqualTo(1_000 - 7L * nonce);
    }
  }

  private static void awaitApplied(ReplicaServer<LedgerRequest, LedgerResult> r, long logIndex) throws InterruptedException {
    for (int i = 0; i < 1500 && r.replica().applied().logIndex() < logIndex; i++) {
      Thread.sleep(20);
    }
    assertThat(r.replica().applied().logIndex()).as("replica %s's applied index", r.id()).isGreaterThanOrEqualTo(logIndex);
  }

  /** The formats of the batch entries in a replica's Raft log, in log order, each once. */
  private static List<Integer> entryFormats(ReplicaServer<LedgerRequest, LedgerResult> r) throws Exception {
    var log = r.raftDivision().getRaftLog();
    java.util.LinkedHashSet<Integer> formats = new java.util.LinkedHashSet<>();
    for (long i = log.getStartIndex(); i <= log.getLastEntryTermIndex().getIndex(); i++) {
      var entry = log.get(i);
      if (entry != null && entry.hasStateMachineLogEntry() && !entry.getStateMachineLogEntry().getLogData().isEmpty()) {
        formats.add((int) entry.getStateMachineLogEntry().getLogData().byteAt(0));
      }
    }
    return List.copyOf(formats);
  }

  @Test
  void aReplicaThatMissedPurgedEntriesCatchesUpByInstallingASnapshot() throws Exception {
    raftSettings = RaftSettings.DEFAULT.withSnapshots(8, 16 << 10).purgingPastLaggingFollowers();
    startCluster(3);
    var leader = awaitLeader();
    String follower = next(leader.id());
    replicas.remove(follower).close();
    SigningKey owner = SigningKey.generate(new SplittableRandom(9));
    applied(send(new ClientRequest(Bytes.utf8("c"), 1, LedgerRequest.CODEC.encode(
        LedgerRequest.sign(new LedgerOp.OpenAccount("acct", owner.publicKey()), owner)))));
    for (int i = 0; i < 60; i++) {
      applied(send(new ClientRequest(Bytes.utf8("c"), 2 + i, LedgerRequest.CODEC.encode(
          LedgerRequest.sign(new LedgerOp.Deposit("acct", 1, Bytes.utf8("d" + i)), ADMIN)))));
    }
    var now = awaitLeader();
    for (int i = 0; i < 500 && now.raftLogStartIndex() == 0; i++) {
      Thread.sleep(20);
    }
    assertThat(now.raftLogStartIndex()).as("the leader purged its log behind a snapshot").isPositive();
    start(follower);
    var reference = now.replica().applied();
    var restarted = replicas.get(follower);
    for (int i = 0; i < 1500 && restarted.replica().applied().batchNumber() < reference.batchNumber(); i++) {
      Thread.sleep(20);
    }
    assertThat(restarted.replica().applied().batchNumber()).isEqualTo(reference.batchNumber());
    assertThat(restarted.replica().applied().stateDigest()).isEqualTo(reference.stateDigest());
    assertThat(StateMirror.get(restarted.replica().objects().store(), Ledger.ACCOUNTS, "acct").orElseThrow().balance())
        .isEqualTo(60);
    assertThat(restarted.replica().state().latestRoot()).isEqualTo(now.replica().state().latestRoot());
    // And it goes on applying new batches after the snapshot.
    applied(send(new ClientRequest(Bytes.utf8("c"), 100, LedgerRequest.CODEC.encode(
        LedgerRequest.sign(new LedgerOp.Deposit("acct", 1, Bytes.utf8("after")), ADMIN)))));
    for (int i = 0; i < 500 && restarted.replica().applied().batchNumber() <= reference.batchNumber(); i++) {
      Thread.sleep(20);
    }
    assertThat(restarted.replica().applied().batchNumber()).isEqualTo(reference.batchNumber() + 1);
  }

  @Test
  void replicasCanJoinAndLeaveARunningCluster() throws Exception {
    startCluster(3);
    awaitLeader();
    SigningKey owner = SigningKey.generate(new SplittableRandom(3));
    applied(send(new ClientRequest(Bytes.utf8("c"), 1, LedgerRequest.CODEC.encode(
        LedgerRequest.sign(new LedgerOp.OpenAccount("acct", owner.publicKey()), owner)))));
    for (int i = 0; i < 10; i++) {
      applied(send(new ClientRequest(Bytes.utf8("c"), 2 + i, LedgerRequest.CODEC.encode(
          LedgerRequest.sign(new LedgerOp.Deposit("acct", 1, Bytes.utf8("d" + i)), ADMIN)))));
    }
    // A fourth replica joins.
    Map<String, String> four = new LinkedHashMap<>(members.addresses());
    four.put("r3", "127.0.0.1:" + InProcessCluster.freeLoopbackPort());
    // Client endpoints travel in the Raft configuration (made-up ones: nothing listens there here).
    Map<String, String> clientsOfFour = new LinkedHashMap<>();
    four.keySet().forEach(id -> clientsOfFour.put(id, "127.0.0.1:" + (20_000 + clientsOfFour.size())));
    ReplicaServer.Members withNew = new ReplicaServer.Members("test", four, clientsOfFour);
    replicas.put("r3", ReplicaServer.join("r3", withNew, dir.resolve("r3"), ledger, config, raftSettings, OPERATOR,
        InstantSource.system()));
    awaitLeader().changeMembers(withNew);
    members = withNew;
    var leader = awaitLeader();
    for (int i = 0; i < 1000 && replicas.get("r3").replica().applied().batchNumber() < leader.replica().applied().batchNumber(); i++) {
      Thread.sleep(20);
    }
    assertThat(replicas.get("r3").replica().applied().stateDigest()).isEqualTo(leader.replica().applied().stateDigest());
    assertThat(leader.clientEndpoints()).as("client endpoints in the new configuration").isEqualTo(clientsOfFour);

    // One of the first three leaves; the cluster goes on with the others.
    String leaving = leader.id().equals("r0") ? "r1" : "r0";
    Map<String, String> three = new LinkedHashMap<>(four);
    three.remove(leaving);
    Map<String, String> clientsOfThree = new LinkedHashMap<>(clientsOfFour);
    clientsOfThree.remove(leaving);
    ReplicaServer.Members without = new ReplicaServer.Members("test", three, clientsOfThree);
    leader.changeMembers(without);
    members = without;
    replicas.remove(leaving).close();
    applied(send(new ClientRequest(Bytes.utf8("c"), 50, LedgerRequest.CODEC.encode(
        LedgerRequest.sign(new LedgerOp.Deposit("acct", 1, Bytes.utf8("after")), ADMIN)))));
    leader = awaitLeader();
    assertThat(leader.clientEndpoints()).as("client endpoints once %s left", leaving).isEqualTo(clientsOfThree);
    for (var r : replicas.values()) {
      for (int i = 0; i < 1000 && r.replica().applied().batchNumber() < leader.replica().applied().batchNumber(); i++) {
        Thread.sleep(20);
      }
      assertThat(r.replica().applied().stateDigest()).as("replica %s", r.id()).isEqualTo(leader.replica().applied().stateDigest());
      assertThat(StateMirror.get(r.replica().objects().store(), Ledger.ACCOUNTS, "acct").orElseThrow().balance()).isEqualTo(11);
    }
  }

  @Test
  void aReplicaHasOneDeadlockWatchdog() throws Exception {
    startCluster(1);
    var leader = awaitLeader();
    List<String> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
    leader.watchForRaftDeadlock(java.time.Duration.ofSeconds(30), java.time.Duration.ofSeconds(8), reports::add);
    assertThatThrownBy(() -> leader.watchForRaftDeadlock(java.time.Duration.ofSeconds(30), java.time.Duration.ofSeconds(8),
        reports::add))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("already watches");
    // The watched replica still serves.
    SigningKey owner = SigningKey.generate(new SplittableRandom(300));
    applied(send(new ClientRequest(Bytes.utf8("solo"), 1, LedgerRequest.CODEC.encode(
        LedgerRequest.sign(new LedgerOp.OpenAccount("solo", owner.publicKey()), owner)))));
    assertThat(reports).isEmpty();
  }

  @Test
  void leadershipCanBeHandedOverByHand() throws Exception {
    startCluster(3);
    var leader = awaitLeader();
    String target = next(leader.id());
    leader.transferLeadership(target, 5_000);
    ReplicaServer<LedgerRequest, LedgerResult> now = null;
    for (int i = 0; i < 500; i++) {
      now = replicas.get(target);
      if (now.isSequencing()) {
        break;
      }
      Thread.sleep(20);
    }
    assertThat(now.isSequencing()).isTrue();
    SigningKey owner = SigningKey.generate(new SplittableRandom(5));
    Outcome.Confirmed c = send(new ClientRequest(Bytes.utf8("c"), 1, LedgerRequest.CODEC.encode(
        LedgerRequest.sign(new LedgerOp.OpenAccount("after-transfer", owner.publicKey()), owner))));
    applied(c);
    assertThat(replicas.get(leader.id()).submit(new ClientRequest(Bytes.utf8("c"), 2, Bytes.fromHex("00"))).get())
        .isEqualTo(new Outcome.NotLeader(java.util.Optional.of(target)));
  }

  @Test
  void aLeaderFreesAStalledFollowerByHandingLeadershipToItsSuccessor() throws Exception {
    startCluster(3);
    var leader = awaitLeader();
    String stalled = next(leader.id());
    String successor = next(stalled);
    leader.handOff(stalled, java.util.Optional.of(successor));
    for (int i = 0; i < 500 && !replicas.get(successor).isSequencing(); i++) {
      Thread.sleep(20);
    }
    assertThat(replicas.get(successor).isSequencing()).as("%s leads", successor).isTrue();
    SigningKey owner = SigningKey.generate(new SplittableRandom(6));
    applied(send(new ClientRequest(Bytes.utf8("h"), 1, LedgerRequest.CODEC.encode(
        LedgerRequest.sign(new LedgerOp.OpenAccount("after-hand-off", owner.publicKey()), owner)))));
    assertThat(replicas.get(stalled).isSequencing()).isFalse();
  }

  /**
   * The survivor of a leader and a follower both going down keeps asking them for votes and
   * fails; gRPC then waits longer and longer (1 s, growing by 1.6) before it even tries to
   * connect. When the follower comes back with a shorter log, only the survivor can win, and
   * only once its vote requests reach it: without clearing that back-off, seconds after the
   * follower is up (here about 6 s after 20 s of failures). A bound, not a timing: the
   * election itself takes well under a second.
   */
  @Test
  @org.junit.jupiter.api.Tag("slow")
  void aLeaderlessReplicaReachesAPeerAsSoonAsItIsBackNotWhenItsConnectionBackOffEnds() throws Exception {
    startCluster(3);
    var leader = awaitLeader();
    String behind = next(leader.id());
    String survivor = next(behind);
    replicas.remove(behind).close();
    SigningKey owner = SigningKey.generate(new SplittableRandom(7));
    applied(send(new ClientRequest(Bytes.utf8("b"), 1, LedgerRequest.CODEC.encode(
        LedgerRequest.sign(new LedgerOp.OpenAccount("while-one-is-down", owner.publicKey()), owner)))));
    replicas.remove(leader.id()).close();
    Thread.sleep(20_000); // the survivor's vote requests fail, and gRPC's back-off grows

    long restarted = System.nanoTime();
    start(behind);
    ReplicaServer<LedgerRequest, LedgerResult> elected = null;
    for (int i = 0; i < 1_000 && elected == null; i++) {
      elected = replicas.get(survivor).isSequencing() ? replicas.get(survivor) : null;
      Thread.sleep(10);
    }
    long tookMs = (System.nanoTime() - restarted) / 1_000_000;
    assertThat(elected).as("the survivor, whose log is longer, leads").isNotNull();
    assertThat(tookMs).as("ms from the restart to a leader").isLessThan(4_000);
  }

  /**
   * Snapshots are taken beside the applies and labelled by what the copy holds; reads append
   * entries that change nothing (read markers), and a replica serving only reads must still
   * move its snapshot on past them, not copy its store again after every round of applies.
   */
  @Test
  void aSnapshotMovesPastEntriesThatCarryNoBatch() throws Exception {
    raftSettings = RaftSettings.DEFAULT.withSnapshots(8, 16 << 10);
    startCluster(3);
    var leader = awaitLeader();
    SigningKey owner = SigningKey.generate(new SplittableRandom(302));
    applied(send(new ClientRequest(Bytes.utf8("snap"), 1, LedgerRequest.CODEC.encode(
        LedgerRequest.sign(new LedgerOp.OpenAccount("acct-s", owner.publicKey()), owner)))));
    leader = awaitLeader();
    long lastBatch = leader.replica().applied().logIndex();
    for (int i = 0; i < 40; i++) {
      leader.readBarrier().get(10, TimeUnit.SECONDS);
    }
    Path leaderDir = dir.resolve(leader.id());
    for (int i = 0; i < 500 && latestSnapshotIndex(leaderDir) <= lastBatch + 8; i++) {
      leader.readBarrier().get(10, TimeUnit.SECONDS);
      Thread.sleep(20);
    }
    assertThat(latestSnapshotIndex(leaderDir)).as("the leader's latest snapshot, past its last batch at %d", lastBatch)
        .isGreaterThan(lastBatch + 8);
    assertThat(leader.replica().applied().logIndex()).as("no batch was applied meanwhile").isEqualTo(lastBatch);
  }

  /** The log index of a replica's newest snapshot ({@code raft/GROUP/sm/snapshot.TERM_INDEX}), -1 if none. */
  private static long latestSnapshotIndex(Path replicaDir) throws IOException {
    return CheckpointSnapshots.newestUnder(replicaDir.resolve("raft"))
        .map(p -> CheckpointSnapshots.termIndex(p).getIndex()).orElse(-1L);
  }

  @Test
  void aFollowerReadAfterItsBarrierReflectsEveryWriteConfirmedBeforeIt() throws Exception {
    startCluster(3);
    var leader = awaitLeader();
    SigningKey owner = SigningKey.generate(new SplittableRandom(300));
    applied(send(new ClientRequest(Bytes.utf8("reader"), 1, LedgerRequest.CODEC.encode(
        LedgerRequest.sign(new LedgerOp.OpenAccount("acct-r", owner.publicKey()), owner)))));
    List<ReplicaServer<LedgerRequest, LedgerResult>> followers =
        replicas.values().stream().filter(r -> r != leader).toList();
    for (int i = 1; i <= 20; i++) {
      applied(send(new ClientRequest(Bytes.utf8("reader"), 1 + i, LedgerRequest.CODEC.encode(
          LedgerRequest.sign(new LedgerOp.Deposit("acct-r", 10, Bytes.utf8("r" + i)), ADMIN)))));
      for (var follower : followers) {
        follower.readBarrier().get(10, TimeUnit.SECONDS);
        Account a = StateMirror.get(follower.replica().objects().store(), Ledger.ACCOUNTS, "acct-r").orElseThrow();
        assertThat(a.balance()).as("balance read on %s after deposit %d", follower.id(), i).isEqualTo(10L * i);
      }
    }
  }

  @Test
  void aLeaderCutOffFromItsMajorityRefusesReadsInsteadOfAnsweringStale() throws Exception {
    startCluster(3);
    var leader = awaitLeader();
    SigningKey owner = SigningKey.generate(new SplittableRandom(301));
    applied(send(new ClientRequest(Bytes.utf8("cut"), 1, LedgerRequest.CODEC.encode(
        LedgerRequest.sign(new LedgerOp.OpenAccount("acct-c", owner.publicKey()), owner)))));
    leader.readBarrier().get(10, TimeUnit.SECONDS); // with its majority, the leader reads
    List<Thread> closing = new ArrayList<>();
    for (var r : List.copyOf(replicas.values())) {
      if (r != leader) {
        replicas.remove(r.id());
        closing.add(Thread.ofPlatform().start(r::close));
      }
    }
    for (Thread t : closing) {
      t.join(60_000);
    }
    var refused = org.assertj.core.api.Assertions.catchThrowable(() -> leader.readBarrier().get(30, TimeUnit.SECONDS));
    assertThat(refused).as("a read on a leader that lost its majority").isInstanceOf(java.util.concurrent.ExecutionException.class);
    assertThat(refused.getCause()).isInstanceOf(ReplicaServer.ReadBarrierException.class);
  }

  @Test
  void byDefaultTheLeaderKeepsTheLogADownFollowerStillNeeds() throws Exception {
    raftSettings = RaftSettings.DEFAULT.withSnapshots(8, 16 << 10);
    startCluster(3);
    var leader = awaitLeader();
    String follower = next(leader.id());
    SigningKey owner = SigningKey.generate(new SplittableRandom(303));
    applied(send(new ClientRequest(Bytes.utf8("k"), 1, LedgerRequest.CODEC.encode(
        LedgerRequest.sign(new LedgerOp.OpenAccount("acct-k", owner.publicKey()), owner)))));
    var down = replicas.get(follower);
    for (int i = 0; i < 500 && down.status().commitIndex() < leader.status().commitIndex(); i++) {
      Thread.sleep(20);
    }
    long followerCommit = down.status().commitIndex();
    replicas.remove(follower).close();
    for (int i = 0; i < 60; i++) {
      applied(send(new ClientRequest(Bytes.utf8("k"), 2 + i, LedgerRequest.CODEC.encode(
          LedgerRequest.sign(new LedgerOp.Deposit("acct-k", 1, Bytes.utf8("k" + i)), ADMIN)))));
    }
    var now = awaitLeader();
    // Snapshots were taken every 8 entries, but nothing the down follower lacks was purged.
    assertThat(now.raftLogStartIndex()).as("the leader's first log index").isLessThanOrEqualTo(followerCommit + 1);
    start(follower);
    var restarted = replicas.get(follower);
    var reference = now.replica().applied();
    for (int i = 0; i < 1500 && restarted.replica().applied().batchNumber() < reference.batchNumber(); i++) {
      Thread.sleep(20);
    }
    assertThat(restarted.replica().applied().stateDigest()).isEqualTo(reference.stateDigest());
    assertThat(StateMirror.get(restarted.replica().objects().store(), Ledger.ACCOUNTS, "acct-k").orElseThrow().balance())
        .isEqualTo(60);
  }
}
