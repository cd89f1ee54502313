package dev.bulwark.server.engine;

import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.app.ApplyContext;
import dev.bulwark.core.app.Application;
import dev.bulwark.core.app.Check;
import dev.bulwark.core.app.Origin;
import dev.bulwark.core.app.Rejection;
import dev.bulwark.core.app.StateMirror;
import dev.bulwark.core.app.StateReader;
import dev.bulwark.core.codec.DecodeException;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.store.StoreSnapshot;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.merkle.MerkleLog;
import dev.bulwark.core.merkle.MerkleLogState;
import dev.bulwark.core.receipt.BatchHead;
import dev.bulwark.core.receipt.Confirmation;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.core.state.AuthenticatedMap;
import dev.bulwark.core.state.NodeLoader;
import dev.bulwark.core.state.StateEntryProof;
import dev.bulwark.core.state.StateTrie;
import dev.bulwark.core.state.StateUpdate;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The leader's request pipeline, the seed's steps 2 to 7.
 *
 * <ol>
 *   <li>{@link #submit}: decode, pure validation and optimistic validation against the
 *       committed store, on a bounded pool of validation threads;
 *   <li>one sequencer thread applies requests in order, each in its own savepoint of the batch
 *       transaction, and answers retries of a (client, sequence) with the original outcome;
 *   <li>a batch closes by count, by bytes, or by time; by default as soon as the pipeline has
 *       room (adaptive), so an idle system answers in about one commit;
 *   <li>closing computes the new state root, appends the confirmations to the log, signs the
 *       head, makes the receipts and records them per client, all in the same write set;
 *   <li>the write set and head become one replicated entry; up to {@code pipelineDepth} batches
 *       are in flight, each processed on top of the uncommitted layers before it;
 *   <li>receipts are released when their batch commits; if it does not, every request of it and
 *       of the batches after it is answered "not committed" and the sequencer restarts from the
 *       committed state.
 * </ol>
 */
public final class Sequencer<Q, R> implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Sequencer.class);
  private final Application<Q, R> app;
  private final EngineConfig config;
  private final Replica replica;
  private final Replicator replicator;
  private final SigningKey operatorKey;
  private final InstantSource clock;
  private final ThreadPoolExecutor validation;
  /** Adds state proofs to receipts while their batch replicates; tasks are bounded by pipelineDepth. */
  private final java.util.concurrent.ExecutorService receiptWork;
  private final BlockingQueue<Pending<Q>> queue;
  private final Semaphore slots;
  private final Thread thread;
  private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
  /** inFlight.size(), for the sequencer to read on every request without the lock. */
  private volatile int inFlightBatches;
  private final AtomicReference<String> resetReason = new AtomicReference<>();
  private volatile boolean stopping;
  private volatile PipelineObserver observer = PipelineObserver.NONE;
  private volatile String lastResetReason;

  // Sequencer-thread state: where the next batch starts.
  private long nextBatch;
  private MerkleLogState logState;
  private Digest stateRoot;
  private Digest previousHeadHash;

  private record Pending<Q>(ClientRequest request, Digest digest, Q payload, CompletableFuture<Outcome> future) {}

  /** Put in the queue when a batch completes, so a sequencer waiting for room wakes up. */
  @SuppressWarnings("rawtypes")
  private static final Pending WAKE = new Pending<>(null, null, null, null);

  private record InFlight(long batchNumber, WriteSet writes) {}

  public Sequencer(Application<Q, R> app, EngineConfig config, Replica replica, Replicator replicator,
      SigningKey operatorKey, InstantSource clock) {
    this.app = app;
    this.config = config;
    this.replica = replica;
    this.replicator = replicator;
    this.operatorKey = operatorKey;
    this.clock = clock;
    this.queue = new ArrayBlockingQueue<>(config.queueRequestsMax());
    this.slots = new Semaphore(config.pipelineDepth());
    this.validation = new ThreadPoolExecutor(config.validationThreads(), config.validationThreads(), 30, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(config.queueRequestsMax()),
        Thread.ofPlatform().name("bulwark-validate-", 0).daemon().factory(), new ThreadPoolExecutor.AbortPolicy());
    this.receiptWork = java.util.concurrent.Executors.newFixedThreadPool(config.validationThreads(),
        Thread.ofPlatform().name("bulwark-receipts-", 0).daemon().factory());
    loadCommitted();
    this.thread = Thread.ofPlatform().name("bulwark-sequencer").daemon().unstarted(this::run);
    thread.start();
  }

  private void loadCommitted() {
    nextBatch = replica.applied().batchNumber() + 1;
    logState = EngineTables.CONFIRMATIONS.load(replica.objects().store());
    stateRoot = replica.state().latestRoot();
    previousHeadHash = replica.lastHead().map(h -> h.head().hash()).orElse(BatchHead.ZERO);
  }

  /** Reads of one consistent snapshot of the committed state, for the optimistic stage. */
  private static StateReader reader(ReadView snapshot) {
    return new StateReader() {
      @Override public <K, V> Optional<V> get(AuthenticatedMap<K, V> map, K key) {
        return StateMirror.get(snapshot, map, key);
      }

      @Override public ReadView view() {
        return snapshot;
      }
    };
  }

  /** Reports every batch to {@code observer} from now on. */
  public void observe(PipelineObserver observer) {
    this.observer = java.util.Objects.requireNonNull(observer);
  }

  /** {@link #submit(ClientRequest, Origin)} for a request from no particular connection. */
  public CompletableFuture<Outcome> submit(ClientRequest request) {
    return submit(request, Origin.PUBLIC);
  }

  /** Runs stages 2 and 3 on the validation pool, then queues the request for the sequencer. */
  public CompletableFuture<Outcome> submit(ClientRequest request, Origin origin) {
    CompletableFuture<Outcome> future = new CompletableFuture<>();
    if (stopping) {
      future.complete(new Outcome.NotCommitted("this replica is shutting down"));
      return future;
    }
    try {
      validation.execute(() -> validateAndQueue(request, origin, future));
    } catch (RejectedExecutionException e) {
      future.complete(new Outcome.Busy("too many requests waiting for validation"));
    }
    return future;
  }

  private void validateAndQueue(ClientRequest request, Origin origin, CompletableFuture<Outcome> future) {
    Q payload;
    try {
      payload = app.requestCodec().decode(request.payload());
    } catch (DecodeException | IllegalArgumentException e) {
      future.complete(new Outcome.Rejected("MALFORMED", "the request does not decode: " + e.getMessage()));
      return;
    }
    Check check = app.validate(payload, origin);
    if (check instanceof Check.Ok && !isRetryOfCommitted(request)) {
      // A retry of a committed request would fail against the state it changed; the sequencer
      // answers it with the original outcome instead.
      try (StoreSnapshot snapshot = replica.objects().snapshot()) {
        check = app.validate(payload, reader(snapshot));
      }
    }
    if (check instanceof Check.Rejected rejected) {
      future.complete(new Outcome.Rejected(rejected.code(), rejected.message()));
      return;
    }
    if (!queue.offer(new Pending<>(request, request.digest(), payload, future))) {
      future.complete(new Outcome.Busy("the sequencer queue is full (" + config.queueRequestsMax() + ")"));
    }
  }

  private boolean isRetryOfCommitted(ClientRequest request) {
    return EngineTables.SESSIONS.get(replica.objects().store(), request.clientId())
        .map(session -> request.sequence() <= session.sequence())
        .orElse(false);
  }

  // ---------------------------------------------------------------- the sequencer thread

  private void run() {
    while (!stopping) {
      try {
        String reason = resetReason.getAndSet(null);
        if (reason != null) {
          reset(reason);
        }
        Pending<Q> first = queue.poll(20, TimeUnit.MILLISECONDS);
        if (first == null || first == WAKE) {
          continue;
        }
        while (!slots.tryAcquire(20, TimeUnit.MILLISECONDS)) {
          if (stopping || resetReason.get() != null) {
            first.future().complete(new Outcome.NotCommitted("the pipeline restarted; retry"));
            first = null;
            break;
          }
        }
        if (first != null && resetReason.get() != null) {
          // The slot came from a batch that did not commit: restart from the committed state first.
          slots.release();
          first.future().complete(new Outcome.NotCommitted("the pipeline restarted; retry"));
          first = null;
        }
        if (first != null) {
          runBatch(first);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException | Error e) {
        // A broken invariant: stop loudly rather than leave requests waiting on a dead thread.
        LOG.error("the sequencer stops: {}", e.toString(), e);
        stopping = true;
        Pending<Q> p;
        while ((p = queue.poll()) != null) {
          if (p != WAKE) {
            p.future().complete(new Outcome.NotCommitted("the sequencer stopped on an internal error; retry"));
          }
        }
        throw e;
      }
    }
  }

  /**
   * Fills a batch and closes it. With a time slice ({@code batchDelayMs > 0}) it closes when
   * the slice ends. Adaptive, it closes as soon as the pipeline has room for it without waiting,
   * fewer than {@code pipelineDepth - 1} batches ahead of it in flight, after taking what is
   * queued at that moment. So an idle system answers in about one commit, and under load a
   * batch grows while the one ahead of it replicates (group commit) instead of many small
   * batches each paying its own state root, head signature, log entry and fsync.
   */
  private void runBatch(Pending<Q> first) throws InterruptedException {
    Batch batch = new Batch(nextBatch, clock.millis());
    batch.add(first);
    long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.batchDelayMs());
    int takeThenClose = -1; // adaptive: once there is room, how many more queued requests to take
    while (batch.entries.size() + batch.answeredLater.size() < config.batchRequestsMax()
        && batch.payloadBytes < config.batchBytesMax()) {
      Pending<Q> next;
      if (config.batchDelayMs() == 0) {
        if (takeThenClose < 0 && (inFlightBatches < config.pipelineDepth() - 1 || stopping || resetReason.get() != null)) {
          takeThenClose = queue.size();
        }
        if (takeThenClose == 0) {
          break;
        }
        if (takeThenClose > 0) {
          takeThenClose--;
          next = queue.poll();
          if (next == null) {
            break;
          }
        } else {
          next = queue.poll(20, TimeUnit.MILLISECONDS); // a request, or WAKE when a batch ahead completes
        }
      } else {
        next = queue.poll();
        if (next == null) {
          long waitNs = deadlineNs - System.nanoTime();
          next = waitNs <= 0 ? null : queue.poll(waitNs, TimeUnit.NANOSECONDS);
          if (next == null) {
            break;
          }
        }
      }
      if (next != null && next != WAKE) {
        batch.add(next);
      }
    }
    close(batch);
  }

  /** One batch being built on the sequencer thread. */
  private final class Batch {
    final long number;
    final long timeMs;
    final ReadView base;
    final Transaction tx;
    final List<Applied> entries = new ArrayList<>();
    final List<Runnable> answeredNow = new ArrayList<>();
    final List<Consumer<Boolean>> answeredLater = new ArrayList<>();
    final Map<Bytes, Applied> latestByClient = new HashMap<>();
    final Set<Bytes> touchedTrieKeys = new LinkedHashSet<>();
    final long openedNanos = System.nanoTime();
    long payloadBytes;

    Batch(long number, long timeMs) {
      this.number = number;
      this.timeMs = timeMs;
      List<WriteSet> layers = new ArrayList<>();
      synchronized (inFlight) {
        for (InFlight f : inFlight) {
          layers.add(f.writes());
        }
      }
      this.base = PipelineView.over(replica.objects().store(), layers);
      this.tx = new Transaction(base);
    }

    void add(Pending<Q> p) {
      payloadBytes += p.request().payload().length();
      ClientRequest r = p.request();
      Applied sameBatch = latestByClient.get(r.clientId());
      if (sameBatch != null) {
        answerRetry(p, sameBatch.request().sequence(), sameBatch.pending().digest(), false, sameBatch::outcome);
        return;
      }
      Optional<EngineTables.Session> session = EngineTables.SESSIONS.get(tx, r.clientId());
      if (session.isPresent()) {
        EngineTables.Session s = session.get();
        // The receipt is rebuilt from this batch's view, so now, while it is open.
        if (answerRetry(p, s.sequence(), s.requestDigest(), true, () -> new Outcome.Confirmed(s.result(), receipt(tx, s)))) {
          return;
        }
      }
      apply(p);
    }

    /** Handles a request at or below the client's latest sequence; false if it is a new one. */
    private boolean answerRetry(Pending<Q> p, long latestSequence, Digest latestDigest, boolean originalNow,
        java.util.function.Supplier<Outcome> original) {
      long seq = p.request().sequence();
      if (seq > latestSequence) {
        if (latestByClient.containsKey(p.request().clientId())) {
          apply(p);
          return true;
        }
        return false;
      }
      if (seq < latestSequence) {
        answeredNow.add(() -> p.future().complete(new Outcome.Rejected("STALE_SEQUENCE",
            "sequence " + seq + " is below this client's latest, " + latestSequence)));
      } else if (!p.digest().equals(latestDigest)) {
        answeredNow.add(() -> p.future().complete(new Outcome.Rejected("SEQUENCE_REUSED",
            "sequence " + seq + " was already used for a different request")));
      } else {
        // A retry: the original's outcome, released when this batch commits (after the original's).
        Outcome now = originalNow ? original.get() : null;
        answeredLater.add(committedOk -> p.future().complete(committedOk ? (now != null ? now : original.get())
            : new Outcome.NotCommitted("the batch answering this retry did not commit; retry")));
      }
      return true;
    }

    private void apply(Pending<Q> p) {
      int index = entries.size();
      Context ctx = new Context(this, index);
      Transaction.Savepoint savepoint = tx.savepoint();
      ResultEnvelope result;
      try {
        R value = app.apply(p.payload(), ctx);
        tx.release(savepoint);
        touchedTrieKeys.addAll(ctx.touched);
        result = new ResultEnvelope.Applied(app.resultCodec().encode(value));
      } catch (Rejection e) {
        tx.rollbackTo(savepoint);
        ctx.touched.clear();
        result = new ResultEnvelope.Refused(e.code(), e.getMessage());
      }
      Confirmation c = new Confirmation(config.operatorId(), p.digest(), number, index, result.digest());
      Applied applied = new Applied(p, c, result, List.copyOf(ctx.touched));
      entries.add(applied);
      latestByClient.put(p.request().clientId(), applied);
    }
  }

  /** A request the batch applied (or refused against the state): it gets a confirmation. */
  private static final class Applied {
    private final Pending<?> pending;
    final Confirmation confirmation;
    final ResultEnvelope result;
    final List<Bytes> touched;
    /** Set on the sequencer thread; replaced by one with state proofs on the receipt pool. */
    volatile Receipt receipt;

    Applied(Pending<?> pending, Confirmation confirmation, ResultEnvelope result, List<Bytes> touched) {
      this.pending = pending;
      this.confirmation = confirmation;
      this.result = result;
      this.touched = touched;
    }

    Pending<?> pending() {
      return pending;
    }

    ClientRequest request() {
      return pending.request();
    }

    Outcome outcome() {
      return new Outcome.Confirmed(result, receipt);
    }
  }

  /** What apply sees: state through the batch transaction, writes recorded for the trie. */
  private final class Context implements ApplyContext {
    private final Batch batch;
    private final int index;
    final Set<Bytes> touched = new LinkedHashSet<>();

    Context(Batch batch, int index) {
      this.batch = batch;
      this.index = index;
    }

    @Override public <K, V> Optional<V> get(AuthenticatedMap<K, V> map, K key) {
      return StateMirror.get(batch.tx, map, key);
    }

    @Override public ReadView view() {
      return batch.tx;
    }

    @Override public <K, V> void put(AuthenticatedMap<K, V> map, K key, V value) {
      StateMirror.put(batch.tx, map, key, value);
      touched.add(map.keyBytes(key));
    }

    @Override public <K, V> void delete(AuthenticatedMap<K, V> map, K key) {
      StateMirror.delete(batch.tx, map, key);
      touched.add(map.keyBytes(key));
    }

    @Override public Transaction transaction() {
      return batch.tx;
    }

    @Override public long batchNumber() {
      return batch.number;
    }

    @Override public int indexInBatch() {
      return index;
    }

    @Override public long batchTimeMs() {
      return batch.timeMs;
    }
  }

  /** The receipt a session's request got (without state proofs), as {@code view} holds it. */
  private static Receipt receipt(ReadView view, EngineTables.Session s) {
    return switch (s.receipt()) {
      case EngineTables.StoredReceipt.Whole whole -> whole.receipt();
      case EngineTables.StoredReceipt.InLog at -> {
        SignedBatchHead head = EngineTables.HEADS.get(view, at.batchNumber()).orElseThrow(() ->
            new dev.bulwark.core.CorruptionException("head of batch " + at.batchNumber(), "missing under a session"));
        yield new Receipt.PerBatch(new Confirmation(head.head().operatorId(), s.requestDigest(), at.batchNumber(),
            at.indexInBatch(), s.result().digest()), head,
            EngineTables.CONFIRMATIONS.inclusionProof(view, at.leafIndex(), head.head().logSize()));
      }
    };
  }

  /** Seals a batch: state root, log, head, receipts, sessions; then replicates it. */
  private void close(Batch batch) {
    long closingNanos = System.nanoTime();
    batch.answeredNow.forEach(Runnable::run);
    Transaction tx = batch.tx;
    List<StateUpdate> updates = new ArrayList<>(batch.touchedTrieKeys.size());
    for (Bytes key : batch.touchedTrieKeys) {
      updates.add(new StateUpdate(key, StateMirror.get(tx, key)));
    }
    StateTrie.Result state = replica.state().stage(tx, batch.number, stateRoot, updates);
    List<Digest> leaves = new ArrayList<>(batch.entries.size());
    for (Applied a : batch.entries) {
      leaves.add(a.confirmation.leafHash());
    }
    MerkleLog.Appended log = EngineTables.CONFIRMATIONS.appendAndProve(tx, logState, leaves);
    BatchHead head = new BatchHead(config.operatorId(), batch.number, log.state().size(), log.state().root(),
        state.root(), previousHeadHash, batch.timeMs);
    SignedBatchHead signed = SignedBatchHead.sign(head, operatorKey);
    for (int i = 0; i < batch.entries.size(); i++) {
      Applied a = batch.entries.get(i);
      // The session keeps the receipt without state proofs (kilobytes each, every request): a
      // retry gets a receipt that still proves its confirmation under the signed head.
      a.receipt = switch (config.receiptMode()) {
        case PER_REQUEST -> Receipt.PerRequest.sign(a.confirmation, operatorKey);
        case PER_BATCH -> new Receipt.PerBatch(a.confirmation, signed, log.proofs().get(i));
      };
      EngineTables.StoredReceipt stored = a.receipt instanceof Receipt.PerBatch
          ? new EngineTables.StoredReceipt.InLog(batch.number, i, logState.size() + i)
          : new EngineTables.StoredReceipt.Whole(a.receipt);
      EngineTables.SESSIONS.put(tx, a.request().clientId(), new EngineTables.Session(a.request().sequence(),
          a.pending().digest(), a.result, stored));
    }
    EngineTables.HEADS.put(tx, batch.number, signed);
    WriteSet writes = tx.commit();
    BatchEntry entry = new BatchEntry(batch.number, writes, signed);

    synchronized (inFlight) {
      inFlight.addLast(new InFlight(batch.number, writes));
      inFlightBatches = inFlight.size();
    }
    nextBatch = batch.number + 1;
    logState = log.state();
    stateRoot = state.root();
    previousHeadHash = head.hash();

    long sealedNanos = System.nanoTime();
    PipelineObserver watching = observer;
    watching.sealed(batch.number, batch.entries.size(), batch.payloadBytes, closingNanos - batch.openedNanos,
        sealedNanos - closingNanos);
    CompletableFuture<Void> replicated;
    try {
      replicated = replicator.replicate(entry);
    } catch (RuntimeException e) {
      replicated = CompletableFuture.failedFuture(e);
    }
    CompletableFuture<Throwable> receipts = config.receiptMode() == ReceiptMode.PER_BATCH && config.stateProofsInReceipts()
        ? addStateProofs(batch, writes, state.root()) : CompletableFuture.completedFuture(null);
    // The batch leaves the pipeline once it is replicated and its receipts are complete.
    replicated.handle((ok, failure) -> failure).thenAcceptBoth(receipts, (failure, receiptFailure) -> {
      boolean committedOk = failure == null;
      boolean unknown = !committedOk && cause(failure) instanceof OutcomeUnknownException;
      if (!committedOk) {
        // Before the batch leaves the pipeline: whoever takes its slot next must see that the
        // sequencer's state (next batch, roots, log) ran ahead of what committed.
        resetReason.compareAndSet(null, "batch " + batch.number + (unknown ? " has an unknown outcome: " : " was not committed: ")
            + rootMessage(failure));
      }
      synchronized (inFlight) {
        inFlight.removeIf(f -> f.batchNumber() == batch.number);
        inFlightBatches = inFlight.size();
      }
      slots.release();
      queue.offer(wake());
      watching.done(batch.number, batch.entries.size(), committedOk, System.nanoTime() - sealedNanos);
      Outcome lost = null;
      if (!committedOk) {
        lost = unknown ? new Outcome.Unknown("batch " + batch.number + ": " + rootMessage(failure)
                + "; retry with the same sequence number")
            : new Outcome.NotCommitted("batch " + batch.number + " was not committed; retry");
      }
      for (Applied a : batch.entries) {
        a.pending().future().complete(committedOk ? a.outcome() : lost);
      }
      for (Consumer<Boolean> later : batch.answeredLater) {
        later.accept(committedOk);
      }
    });
  }

  /**
   * Adds to each receipt of {@code batch} the proofs of the state entries its request wrote,
   * off the sequencer thread and while the batch replicates: proving is a walk down the new
   * trie per key, as costly as the batch's whole state update. The trie nodes are read from
   * the batch's own writes over the view it was built on. Completes with the failure, if any
   * (a proof that does not verify is a bug; those receipts then go without proofs).
   */
  private CompletableFuture<Throwable> addStateProofs(Batch batch, WriteSet writes, Digest root) {
    NodeLoader loader = replica.state().loader(writes.over(batch.base));
    int n = batch.entries.size();
    int parts = Math.clamp(n / 64, 1, config.validationThreads());
    List<CompletableFuture<Void>> work = new ArrayList<>(parts);
    for (int p = 0; p < parts; p++) {
      int from = (int) ((long) n * p / parts);
      int to = (int) ((long) n * (p + 1) / parts);
      work.add(CompletableFuture.runAsync(() -> {
        for (int i = from; i < to; i++) {
          Applied a = batch.entries.get(i);
          if (a.touched.isEmpty() || !(a.receipt instanceof Receipt.PerBatch pb)) {
            continue;
          }
          List<StateEntryProof> proofs = new ArrayList<>(Math.min(a.touched.size(), Receipt.PerBatch.STATE_PROOFS_MAX));
          for (Bytes key : a.touched) {
            if (proofs.size() < Receipt.PerBatch.STATE_PROOFS_MAX) {
              proofs.add(StateEntryProof.of(loader, root, key));
            }
          }
          a.receipt = new Receipt.PerBatch(pb.confirmation(), pb.head(), pb.inclusion(), proofs);
        }
      }, receiptWork));
    }
    return CompletableFuture.allOf(work.toArray(CompletableFuture[]::new)).handle((ok, failure) -> {
      if (failure != null) {
        LOG.error("state proofs of batch {} failed; its receipts go without them", batch.number, failure);
      }
      return failure;
    });
  }

  @SuppressWarnings("unchecked")
  private Pending<Q> wake() {
    return (Pending<Q>) WAKE;
  }

  private static Throwable cause(Throwable t) {
    Throwable c = t;
    while ((c instanceof java.util.concurrent.CompletionException || c instanceof java.util.concurrent.ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  private static String rootMessage(Throwable t) {
    Throwable cause = t;
    while (cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
    }
    return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
  }

  /**
   * After a batch failed to commit: wait until nothing is in flight (later batches fail too,
   * built on the lost one), then start again from what is committed.
   */
  private void reset(String reason) throws InterruptedException {
    lastResetReason = reason;
    slots.acquire(config.pipelineDepth());
    slots.release(config.pipelineDepth());
    loadCommitted();
  }

  /** Stops taking requests; answers every queued one "not committed". */
  @Override
  public void close() {
    stopping = true;
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    validation.shutdown();
    Pending<Q> p;
    while ((p = queue.poll()) != null) {
      if (p == WAKE) {
        continue;
      }
      p.future().complete(new Outcome.NotCommitted("this replica stopped sequencing; retry"));
    }
    try {
      // Batches already handed to the replicator finish (or fail) on their own.
      slots.tryAcquire(config.pipelineDepth(), 30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    receiptWork.shutdown();
  }

  /** Why the pipeline last restarted from the committed state, if it ever did. */
  public Optional<String> lastResetReason() {
    return Optional.ofNullable(lastResetReason);
  }

  /** Requests waiting for the sequencer. */
  public int queued() {
    return queue.size();
  }
}
