package dev.bulwark.server.engine;

import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.core.protocol.ClientRequest;
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
import dev.bulwark.store.Durability;
import dev.bulwark.store.StoreConfig;
import dev.bulwark.store.StoreSnapshot;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.store.state.RootReleasedException;
import dev.bulwark.store.state.StateCollector;
import dev.bulwark.store.state.StateConfig;
import dev.bulwark.store.state.StateStore;
import dev.bulwark.core.Digest;
import dev.bulwark.core.state.NodeLoader;
import dev.bulwark.core.state.NodeRef;
import dev.bulwark.core.state.StateNode;
import dev.bulwark.core.state.StateTrie;
import java.util.HashSet;
import java.util.Set;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pipeline on one replica (no Raft), driven by the ledger. */
class LedgerPipelineTest {
  @TempDir
  Path dir;

  static final SigningKey ADMIN = SigningKey.generate(new SplittableRandom(1));
  static final SigningKey OPERATOR = SigningKey.generate(new SplittableRandom(2));
  final Ledger ledger = new Ledger(ADMIN.publicKey());

  Replica replica;
  LocalReplicator replicator;
  Sequencer<LedgerRequest, LedgerResult> sequencer;

  /** Set to make the next batches fail to commit, as when leadership moves. */
  volatile boolean losing;

  void start(EngineConfig config) {
    replica = new Replica(StoreConfig.defaults(dir), ledger, config, Durability.SYNC);
    replicator = new LocalReplicator(replica);
    Replicator flaky = entry -> losing
        ? CompletableFuture.failedFuture(new NotCommittedException("leadership lost (test)"))
        : replicator.replicate(entry);
    sequencer = new Sequencer<>(ledger, config, replica, flaky, OPERATOR, InstantSource.system());
  }

  @AfterEach
  void stop() {
    if (sequencer != null) {
      sequencer.close();
      if (replicator != null) {
        replicator.close();
      }
      replica.close();
      sequencer = null;
    }
  }

  /** A client: its id, its own sequence numbers. */
  static final class Client {
    final Bytes id;
    long sequence;

    Client(String name) {
      this.id = Bytes.utf8(name);
    }

    ClientRequest next(LedgerRequest request) {
      return new ClientRequest(id, ++sequence, LedgerRequest.CODEC.encode(request));
    }
  }

  static Outcome await(CompletableFuture<Outcome> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  static Outcome.Confirmed confirmed(Outcome o) {
    assertThat(o).isInstanceOf(Outcome.Confirmed.class);
    return (Outcome.Confirmed) o;
  }

  static LedgerResult applied(Outcome o) {
    Outcome.Confirmed c = confirmed(o);
    assertThat(c.result()).as("result %s", c.result()).isInstanceOf(ResultEnvelope.Applied.class);
    return LedgerResult.CODEC.decode(((ResultEnvelope.Applied) c.result()).result());
  }

  private Outcome run(Client client, LedgerRequest request) throws Exception {
    return await(sequencer.submit(client.next(request)));
  }

  private List<SigningKey> openFunded(Client admin, int accounts, long each) throws Exception {
    List<SigningKey> owners = new ArrayList<>();
    for (int i = 0; i < accounts; i++) {
      SigningKey owner = SigningKey.generate(new SplittableRandom(100 + i));
      owners.add(owner);
      Client c = new Client("owner-" + i);
      applied(run(c, LedgerRequest.sign(new LedgerOp.OpenAccount("acct-" + i, owner.publicKey()), owner)));
      if (each > 0) {
        applied(run(admin, LedgerRequest.sign(new LedgerOp.Deposit("acct-" + i, each, Bytes.utf8("dep-" + i)), ADMIN)));
      }
    }
    return owners;
  }

  @Test
  void theReplicaDeletesTheStateNodesThatNoRetainedRootReaches() throws Exception {
    int window = 3;
    start(EngineConfig.defaults("test-operator").withState(StateConfig.DEFAULT.withRetainedVersions(window)));
    Client admin = new Client("admin");
    List<SigningKey> owners = openFunded(admin, 4, 1_000);
    Client payer = new Client("payer");
    for (int n = 1; n <= 30; n++) { // one batch each: every batch releases a root
      applied(run(payer, LedgerRequest.sign(new LedgerOp.Transfer("acct-0", "acct-" + (1 + n % 3), 1, n), owners.get(0))));
    }
    StateStore state = replica.state();
    for (int wait = 0; wait < 1_000 && state.collectionBacklog() > 0; wait++) {
      Thread.sleep(10);
    }
    StateCollector collector = replica.collector().orElseThrow();
    assertThat(collector.failure()).isNull();
    assertThat(state.collectionBacklog()).isZero();
    assertThat(collector.nodesDeleted()).isPositive();
    assertThat(state.oldestRetainedVersion()).isEqualTo(state.latestVersion() - window + 1);

    // What is stored is exactly what the retained roots reach: nothing live went, nothing dead stayed.
    Set<Bytes> live = new HashSet<>();
    Set<Bytes> stored = new HashSet<>();
    try (StoreSnapshot snapshot = replica.objects().snapshot()) {
      NodeLoader loader = state.loader(snapshot);
      for (long v = state.oldestRetainedVersion(); v <= state.latestVersion(); v++) {
        Digest root = state.root(snapshot, v);
        if (!root.equals(StateTrie.EMPTY_ROOT)) {
          reachable(loader, loader.root(root), live);
        }
      }
      try (Cursor c = snapshot.scan(KeyRange.prefix(StateStore.NODES.id().prefix()))) {
        for (int i = 0; i < 1_000_000 && c.hasNext(); i++) {
          stored.add(c.next().key());
        }
      }
    }
    assertThat(live).isNotEmpty();
    assertThat(stored).isEqualTo(live);
    long released = state.oldestRetainedVersion() - 1;
    assertThatThrownBy(() -> state.prove(released, Ledger.ACCOUNTS.keyBytes("acct-0")))
        .isInstanceOf(RootReleasedException.class);
  }

  /** Adds the store key of every node under {@code ref} to {@code into}; loading each checks its hash. */
  private static void reachable(NodeLoader loader, NodeRef ref, Set<Bytes> into) {
    if (into.add(StateStore.nodeKey(ref)) && loader.load(ref) instanceof StateNode.Internal internal) {
      for (int n = 0; n < 16; n++) {
        if (internal.hasChild(n)) {
          reachable(loader, new NodeRef(internal.child(n), internal.childVersion(n), ref.depth() + 1,
              NodeRef.childPath(ref.path(), ref.depth(), n)), into);
        }
      }
    }
  }

  @Test
  void concurrentTransfersAreAppliedOnceConservedAndProvable() throws Exception {
    start(EngineConfig.defaults("test-operator"));
    Client admin = new Client("admin");
    int accounts = 8;
    List<SigningKey> owners = openFunded(admin, accounts, 1_000);

    // One thread per source account, each with its own nonces; targets at random. Payers of even
    // accounts ask for state proofs in their receipts, the others do not, in the same batches.
    ExecutorService pool = Executors.newFixedThreadPool(accounts);
    List<Future<List<Outcome>>> results = new ArrayList<>();
    for (int i = 0; i < accounts; i++) {
      int from = i;
      results.add(pool.submit(() -> {
        Client c = new Client("payer-" + from);
        SplittableRandom random = new SplittableRandom(from);
        List<Outcome> outcomes = new ArrayList<>();
        for (int n = 1; n <= 25; n++) {
          int to = (from + 1 + random.nextInt(accounts - 1)) % accounts;
          LedgerRequest t = LedgerRequest.sign(new LedgerOp.Transfer("acct-" + from, "acct-" + to, 7, n), owners.get(from));
          outcomes.add(await(sequencer.submit(c.next(t), dev.bulwark.core.app.Origin.PUBLIC, from % 2 == 0)));
        }
        return outcomes;
      }));
    }
    List<Receipt> receipts = new ArrayList<>();
    List<Integer> payers = new ArrayList<>();
    for (int i = 0; i < accounts; i++) {
      for (Outcome o : results.get(i).get(60, TimeUnit.SECONDS)) {
        applied(o);
        receipts.add(confirmed(o).receipt());
        payers.add(i);
      }
    }
    pool.shutdown();
    for (int n = 0; n < receipts.size(); n++) {
      Receipt r = receipts.get(n);
      assertThat(r.verify(OPERATOR.publicKey()).isValid()).as("receipt %s", r.confirmation()).isTrue();
      int from = payers.get(n);
      var state = ((Receipt.PerBatch) r).state();
      if (from % 2 == 0) {
        // Both accounts of the transfer (and the ledger's other writes, none here), payer first.
        assertThat(state).hasSize(2);
        assertThat(state.get(0).key()).isEqualTo(Ledger.ACCOUNTS.keyBytes("acct-" + from));
      } else {
        assertThat(state).as("asked without state proofs").isEmpty();
      }
    }
    long total = 0;
    for (int i = 0; i < accounts; i++) {
      Account a = StateMirror.get(replica.objects().store(), Ledger.ACCOUNTS, "acct-" + i).orElseThrow();
      assertThat(a.balance()).isNotNegative();
      assertThat(a.nonce()).isEqualTo(25);
      total += a.balance();
    }
    assertThat(total).isEqualTo(accounts * 1_000L);
    assertThat(StateMirror.get(replica.objects().store(), Ledger.SUPPLY, Ledger.SUPPLY_KEY)).contains(accounts * 1_000L);
    // The committed state root proves a balance.
    long latest = replica.applied().batchNumber();
    var proof = replica.state().prove(latest, Ledger.ACCOUNTS.keyBytes("acct-3"));
    assertThat(Ledger.ACCOUNTS.check(replica.lastHead().orElseThrow().head().stateRoot(), "acct-3", proof))
        .isInstanceOf(dev.bulwark.core.state.AuthenticatedMap.Checked.Present.class);
  }

  @Test
  void anAccountsHistoryIsAnOrderedPrefixScanOfContentAddressedOperations() throws Exception {
    start(EngineConfig.defaults("test-operator"));
    Client admin = new Client("admin");
    List<SigningKey> owners = openFunded(admin, 3, 100);
    Client payer = new Client("payer");
    List<LedgerRequest> sent = new ArrayList<>();
    for (int n = 1; n <= 5; n++) {
      LedgerRequest t = LedgerRequest.sign(new LedgerOp.Transfer("acct-0", "acct-" + (1 + n % 2), n, n), owners.get(0));
      sent.add(t);
      applied(run(payer, t));
    }
    var store = replica.objects().store();
    var rows = Ledger.HISTORY.scan(store, dev.bulwark.core.table.KeyPrefix.of(dev.bulwark.core.codec.Codecs.keyUtf8(), "acct-0"), 100);
    // Opened, funded, then the five transfers, in the order they were applied.
    assertThat(rows).hasSize(7);
    for (int i = 1; i < rows.size(); i++) {
      var a = rows.get(i - 1).key();
      var b = rows.get(i).key();
      assertThat(a.batchNumber() < b.batchNumber() || (a.batchNumber() == b.batchNumber() && a.indexInBatch() < b.indexInBatch()))
          .isTrue();
    }
    for (int i = 0; i < 5; i++) {
      var key = new dev.bulwark.core.table.ContentKey(Ledger.OPERATIONS.id(), rows.get(2 + i).value());
      assertThat(Ledger.OPERATIONS.get(store, key)).contains(sent.get(i));
    }
    // The receiving side sees the transfers too, and no other account's history leaks in.
    var acct1 = Ledger.HISTORY.scan(store, dev.bulwark.core.table.KeyPrefix.of(dev.bulwark.core.codec.Codecs.keyUtf8(), "acct-1"), 100);
    assertThat(acct1).allSatisfy(row -> assertThat(row.key().account()).isEqualTo("acct-1"));
    assertThat(acct1).hasSize(2 + 2); // opened, funded, and the transfers of n = 2 and 4
  }

  @Test
  void aRetryGetsTheOriginalReceiptAndIsNeverAppliedTwice() throws Exception {
    start(EngineConfig.defaults("test-operator"));
    Client admin = new Client("admin");
    openFunded(admin, 1, 0);
    LedgerRequest deposit = LedgerRequest.sign(new LedgerOp.Deposit("acct-0", 50, Bytes.utf8("once")), ADMIN);
    ClientRequest request = admin.next(deposit);
    Outcome first = await(sequencer.submit(request));
    Outcome again = await(sequencer.submit(request));
    // The retry's receipt is the original one, without the state proofs (sessions keep it lean).
    Receipt.PerBatch original = (Receipt.PerBatch) confirmed(first).receipt();
    assertThat(again).isEqualTo(new Outcome.Confirmed(confirmed(first).result(),
        new Receipt.PerBatch(original.confirmation(), original.head(), original.inclusion())));
    assertThat(confirmed(again).receipt().verify(OPERATOR.publicKey()).isValid()).isTrue();
    assertThat(applied(first).balance()).isEqualTo(50);
    // Retries racing each other in one batch, too.
    ClientRequest next = admin.next(LedgerRequest.sign(new LedgerOp.Deposit("acct-0", 5, Bytes.utf8("twice")), ADMIN));
    List<CompletableFuture<Outcome>> racing = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      racing.add(sequencer.submit(next));
    }
    Outcome.Confirmed reference = confirmed(await(racing.getFirst()));
    for (CompletableFuture<Outcome> f : racing) {
      // Same confirmation and result; the state proofs ride only on the first answer.
      Outcome.Confirmed c = confirmed(await(f));
      assertThat(c.result()).isEqualTo(reference.result());
      assertThat(c.receipt().confirmation()).isEqualTo(reference.receipt().confirmation());
      assertThat(c.receipt().verify(OPERATOR.publicKey()).isValid()).isTrue();
    }
    assertThat(StateMirror.get(replica.objects().store(), Ledger.ACCOUNTS, "acct-0").orElseThrow().balance()).isEqualTo(55);
    // An old sequence number is refused; a reused one with other content too.
    assertThat(await(sequencer.submit(new ClientRequest(admin.id, 1, request.payload()))))
        .isInstanceOf(Outcome.Rejected.class);
    ClientRequest reused = new ClientRequest(admin.id, next.sequence(), request.payload());
    assertThat(await(sequencer.submit(reused))).isEqualTo(new Outcome.Rejected("SEQUENCE_REUSED",
        "sequence " + next.sequence() + " was already used for a different request"));
  }

  @Test
  void invalidRequestsAreRejectedBeforeOrRefusedInTheirOwnSavepoint() throws Exception {
    start(EngineConfig.defaults("test-operator"));
    Client admin = new Client("admin");
    List<SigningKey> owners = openFunded(admin, 2, 10);
    Client c = new Client("someone");
    // Stage 2: a deposit signed by a user, not the admin.
    assertThat(run(c, LedgerRequest.sign(new LedgerOp.Deposit("acct-0", 5, Bytes.utf8("x")), owners.get(0))))
        .isEqualTo(new Outcome.Rejected("NOT_AUTHORIZED", "deposits and withdrawals are signed by the operator's admin key"));
    // Stage 2: garbage payload.
    assertThat(await(sequencer.submit(new ClientRequest(c.id, ++c.sequence, Bytes.fromHex("ff00")))))
        .isInstanceOf(Outcome.Rejected.class);
    // Stage 3: too much money (the committed snapshot already says so).
    Outcome tooMuch = run(c, LedgerRequest.sign(new LedgerOp.Transfer("acct-0", "acct-1", 11, 1), owners.get(0)));
    assertThat(tooMuch).isInstanceOf(Outcome.Rejected.class);
    assertThat(((Outcome.Rejected) tooMuch).code()).isEqualTo("INSUFFICIENT_FUNDS");
    // Stage 4: two transfers that each pass the snapshot, but not both: the second is refused alone.
    CompletableFuture<Outcome> a = sequencer.submit(c.next(LedgerRequest.sign(new LedgerOp.Transfer("acct-0", "acct-1", 8, 1), owners.get(0))));
    Client c2 = new Client("someone-else");
    CompletableFuture<Outcome> b = sequencer.submit(c2.next(LedgerRequest.sign(new LedgerOp.Transfer("acct-0", "acct-1", 8, 1), owners.get(0))));
    List<Outcome> both = List.of(await(a), await(b));
    long appliedCount = both.stream().filter(o -> o instanceof Outcome.Confirmed conf
        && conf.result() instanceof ResultEnvelope.Applied).count();
    assertThat(appliedCount).isEqualTo(1);
    assertThat(StateMirror.get(replica.objects().store(), Ledger.ACCOUNTS, "acct-0").orElseThrow().balance()).isEqualTo(2);
    assertThat(StateMirror.get(replica.objects().store(), Ledger.ACCOUNTS, "acct-1").orElseThrow().balance()).isEqualTo(18);
  }

  @Test
  void theOptimisticCheckReadsTheLatestAppliedBatch() throws Exception {
    start(EngineConfig.defaults("test-operator"));
    Client admin = new Client("admin");
    List<SigningKey> owners = openFunded(admin, 2, 10);
    Client c = new Client("emptier");
    long nonce0 = 0;
    long nonce1 = 0;
    for (int round = 0; round < 5; round++) {
      applied(run(c, LedgerRequest.sign(new LedgerOp.Transfer("acct-0", "acct-1", 10, ++nonce0), owners.get(0))));
      // acct-0 is empty in the batch just applied; a check against an older snapshot would let
      // this through to the sequencer, which would confirm it refused instead.
      assertThat(run(c, LedgerRequest.sign(new LedgerOp.Transfer("acct-0", "acct-1", 1, nonce0 + 1), owners.get(0))))
          .isInstanceOfSatisfying(Outcome.Rejected.class, r -> assertThat(r.code()).isEqualTo("INSUFFICIENT_FUNDS"));
      applied(run(c, LedgerRequest.sign(new LedgerOp.Transfer("acct-1", "acct-0", 10, ++nonce1), owners.get(1))));
    }
    assertThat(StateMirror.get(replica.objects().store(), Ledger.ACCOUNTS, "acct-0").orElseThrow().balance()).isEqualTo(10);
  }

  @Test
  void batchesThatDoNotCommitAreAnsweredNotCommittedAndTheirRetriesApplyOnce() throws Exception {
    start(EngineConfig.defaults("test-operator"));
    Client admin = new Client("admin");
    openFunded(admin, 2, 100);
    long batchesBefore = replica.applied().batchNumber();
    losing = true;
    List<ClientRequest> sent = new ArrayList<>();
    List<CompletableFuture<Outcome>> lost = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ClientRequest r = new Client("c" + i).next(
          LedgerRequest.sign(new LedgerOp.Deposit("acct-" + (i % 2), 1, Bytes.utf8("lost-" + i)), ADMIN));
      sent.add(r);
      lost.add(sequencer.submit(r));
    }
    for (CompletableFuture<Outcome> f : lost) {
      assertThat(await(f)).isInstanceOf(Outcome.NotCommitted.class);
    }
    assertThat(replica.applied().batchNumber()).isEqualTo(batchesBefore);
    losing = false;
    // The pipeline restarted from the committed state: retries apply, once.
    for (int attempt = 0; attempt < 2; attempt++) {
      for (ClientRequest r : sent) {
        Outcome o = await(sequencer.submit(r));
        assertThat(o).as("attempt %d", attempt).isInstanceOf(Outcome.Confirmed.class);
      }
    }
    assertThat(sequencer.lastResetReason()).hasValueSatisfying(reason -> assertThat(reason).contains("not committed"));
    long total = 0;
    for (int i = 0; i < 2; i++) {
      total += StateMirror.get(replica.objects().store(), Ledger.ACCOUNTS, "acct-" + i).orElseThrow().balance();
    }
    assertThat(total).isEqualTo(210);
    // The chain of heads has no gap where the lost batches were.
    SignedBatchHead last = replica.lastHead().orElseThrow();
    SignedBatchHead previous = EngineTables.HEADS.get(replica.objects().store(), last.head().batchNumber() - 1).orElseThrow();
    assertThat(last.head().previousHeadHash()).isEqualTo(previous.head().hash());
  }

  @Test
  void aRestartedReplicaContinuesTheChainOfHeads() throws Exception {
    EngineConfig config = EngineConfig.defaults("test-operator").withReceiptMode(ReceiptMode.PER_REQUEST);
    start(config);
    Client admin = new Client("admin");
    openFunded(admin, 3, 100);
    SignedBatchHead before = replica.lastHead().orElseThrow();
    long logSize = before.head().logSize();
    stop();
    start(config);
    assertThat(replica.lastHead()).contains(before);
    Outcome o = run(admin, LedgerRequest.sign(new LedgerOp.Deposit("acct-2", 1, Bytes.utf8("after restart")), ADMIN));
    assertThat(confirmed(o).receipt()).isInstanceOf(Receipt.PerRequest.class);
    assertThat(confirmed(o).receipt().verify(OPERATOR.publicKey()).isValid()).isTrue();
    SignedBatchHead after = replica.lastHead().orElseThrow();
    assertThat(after.head().batchNumber()).isEqualTo(before.head().batchNumber() + 1);
    assertThat(after.head().previousHeadHash()).isEqualTo(before.head().hash());
    assertThat(after.head().logSize()).isEqualTo(logSize + 1);
    var proof = EngineTables.CONFIRMATIONS.consistencyProof(replica.objects().store(), logSize, logSize + 1);
    assertThat(Auditor.audit(before, after, proof, OPERATOR.publicKey())).isInstanceOf(AuditResult.Consistent.class);
  }

  @Test
  void aFixedTimeSliceMakesFewerLargerBatches() throws Exception {
    start(EngineConfig.defaults("test-operator").withBatching(4096, 100));
    Client admin = new Client("admin");
    openFunded(admin, 1, 0);
    long batchesBefore = replica.applied().batchNumber();
    List<CompletableFuture<Outcome>> futures = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      futures.add(sequencer.submit(new Client("c" + i).next(
          LedgerRequest.sign(new LedgerOp.Deposit("acct-0", 1, Bytes.utf8("r" + i)), ADMIN))));
    }
    for (CompletableFuture<Outcome> f : futures) {
      applied(await(f));
    }
    long batches = replica.applied().batchNumber() - batchesBefore;
    assertThat(batches).isBetween(1L, 5L);
  }

  /**
   * A snapshot's checkpoint is taken while batches go on applying (the Raft updater no longer
   * waits for it), so the applied mark it returns must be the one inside the copy: each copy,
   * opened as a replica, holds exactly the state the live replica had after that mark.
   */
  @Test
  void aCheckpointTakenWhileBatchesApplyHoldsExactlyTheStateAfterItsMark() throws Exception {
    EngineConfig config = EngineConfig.defaults("test-operator");
    replica = new Replica(StoreConfig.defaults(dir.resolve("live")), ledger, config, Durability.NO_SYNC);
    java.util.Map<Long, EngineTables.Applied> markAfterBatch = new java.util.concurrent.ConcurrentHashMap<>();
    ExecutorService applier = Executors.newSingleThreadExecutor();
    long[] logIndex = {replica.applied().logIndex()};
    Replicator recording = entry -> CompletableFuture.runAsync(() -> {
      replica.apply(entry, ++logIndex[0], 1);
      markAfterBatch.put(entry.batchNumber(), replica.applied());
    }, applier);
    sequencer = new Sequencer<>(ledger, config, replica, recording, OPERATOR, InstantSource.system());
    Client admin = new Client("admin");
    int accounts = 6;
    List<SigningKey> owners = openFunded(admin, accounts, 1_000_000);

    ExecutorService pool = Executors.newFixedThreadPool(accounts);
    List<Future<?>> payers = new ArrayList<>();
    for (int i = 0; i < accounts; i++) {
      int from = i;
      payers.add(pool.submit(() -> {
        Client c = new Client("payer-" + from);
        for (int n = 1; n <= 150; n++) {
          LedgerRequest t = LedgerRequest.sign(
              new LedgerOp.Transfer("acct-" + from, "acct-" + (from + 1 + n % (accounts - 1)) % accounts, 1, n),
              owners.get(from));
          applied(await(sequencer.submit(c.next(t))));
        }
        return null;
      }));
    }
    List<Path> copies = new ArrayList<>();
    List<EngineTables.Applied> marks = new ArrayList<>();
    for (int k = 0; k < 40 && payers.stream().anyMatch(f -> !f.isDone()); k++) {
      Path copy = dir.resolve("copy-" + k);
      marks.add(replica.checkpoint(copy));
      copies.add(copy);
    }
    for (Future<?> f : payers) {
      f.get(120, TimeUnit.SECONDS);
    }
    pool.shutdown();
    applier.shutdown();
    assertThat(applier.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    long last = replica.applied().batchNumber();
    assertThat(marks.stream().map(EngineTables.Applied::batchNumber).distinct().count())
        .as("checkpoints taken at different points of the load").isGreaterThan(1);
    assertThat(marks.getFirst().batchNumber()).as("the first checkpoint was taken mid-load").isLessThan(last);

    for (int k = 0; k < copies.size(); k++) {
      EngineTables.Applied mark = marks.get(k);
      assertThat(mark).as("copy %d: the live replica's mark after batch %d", k, mark.batchNumber())
          .isEqualTo(markAfterBatch.get(mark.batchNumber()));
      try (Replica copy = new Replica(StoreConfig.defaults(copies.get(k)), ledger, config, Durability.NO_SYNC)) {
        assertThat(copy.applied()).isEqualTo(mark);
        assertThat(copy.lastHead()).isEqualTo(EngineTables.HEADS.get(replica.objects().store(), mark.batchNumber()));
        long total = 0;
        for (int i = 0; i < accounts; i++) {
          total += StateMirror.get(copy.objects().store(), Ledger.ACCOUNTS, "acct-" + i).orElseThrow().balance();
        }
        assertThat(total).as("copy %d conserves the money", k).isEqualTo(accounts * 1_000_000L);
      }
    }
  }
}
