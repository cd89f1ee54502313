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
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
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
 *
 * <p><b>Stepping.</b> The sequencing logic is a state machine that never blocks: {@link #step}
 * does what can be done now (take queued requests, open, fill and close batches, restart after
 * a batch that did not commit) and says when it must run again: at a deadline (a time-sliced
 * batch closes), or when there is news (a request is queued, a batch leaves the pipeline, which
 * queues a wake-up). What it waits for is left in {@code awaiting}. In production one thread
 * drives it and does the waiting the way the loop used to: a timed poll of the queue (the
 * request it returns is handed to the next step), or a timed wait for a free slot or an idle
 * pipeline. A simulator builds the sequencer with {@link #stepped}: no thread, its own
 * {@link Ticker}, clock and executors for validation and receipts, and calls {@link #step}
 * after each simulated event, so a whole run is single-threaded and replayable from a seed.
 * The state machine keeps what the loop kept on its stack (the request waiting for a slot, the
 * batch being filled, its deadline) in fields; nothing is allocated per step.
 */
public final class Sequencer<Q, R> implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Sequencer.class);
  private final Application<Q, R> app;
  private final EngineConfig config;
  private final Replica replica;
  private final Replicator replicator;
  private final SigningKey operatorKey;
  private final InstantSource clock;
  private final Ticker ticker;
  private final Executor validation;
  /** Adds state proofs to receipts while their batch replicates; tasks are bounded by pipelineDepth. */
  private final Executor receiptWork;
  private final BlockingQueue<Pending<Q>> queue;
  private final Semaphore slots;
  /** The thread that drives {@link #step}, or null when a simulator drives it. */
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
  /**
   * Distinct keys the last batch wrote: the next batch's transaction is sized for as many, so
   * its hash map does not rehash thousands of keys several times while the batch fills.
   */
  private int lastBatchWrites;
  private MerkleLogState logState;
  private Digest stateRoot;
  private Digest previousHeadHash;

  // Sequencer-thread state of the step machine: what the old loop kept on its stack.
  /** Taken off the queue by the driver's wait, handed to the next step before the queue's head. */
  private Pending<Q> arrived;
  /** A request that starts the next batch once a slot is free. */
  private Pending<Q> first;
  /** The batch being filled, holding a slot. */
  private Batch open;
  /** Time-sliced batching: when the open batch closes. */
  private long closeAtNs;
  /** Adaptive batching: once there is room, how many more queued requests to take (-1: no room yet). */
  private int takeThenClose;
  /** What the last step waits for; read by the production driver. */
  private Awaiting awaiting = Awaiting.REQUEST;

  private enum Awaiting { REQUEST, SLOT, IDLE }

  /** {@link #step} returns this when it can only move on news (a request, a batch done). */
  public static final long NO_DEADLINE = Long.MAX_VALUE;
  /** {@link #step} returns this once the sequencer has stopped (closed, nothing left to finish). */
  public static final long STOPPED = Long.MIN_VALUE;
  /** How long the production driver waits at most before looking at {@code stopping} again. */
  private static final long WAIT_NS_MAX = TimeUnit.MILLISECONDS.toNanos(20);

  /**
   * A validated request waiting for the sequencer. {@code rejected}: it failed the optimistic
   * check (stage 3); the sequencer still sees it, in case it is a retry of a request ahead of
   * it in the pipeline, and otherwise answers the rejection once its batch commits.
   */
  private record Pending<Q>(ClientRequest request, Digest digest, Q payload, CompletableFuture<Outcome> future,
      Check.Rejected rejected, boolean stateProofs) {}

  /** Put in the queue when a batch completes, so a sequencer waiting for room wakes up. */
  @SuppressWarnings("rawtypes")
  private static final Pending WAKE = new Pending<>(null, null, null, null, null, false);

  private record InFlight(long batchNumber, WriteSet writes) {}

  /** A sequencer with its own thread, validation pool and receipt pool, on system time. */
  public Sequencer(Application<Q, R> app, EngineConfig config, Replica replica, Replicator replicator,
      SigningKey operatorKey, InstantSource clock) {
    this(app, config, replica, replicator, operatorKey, clock, Ticker.SYSTEM,
        new ThreadPoolExecutor(config.validationThreads(), config.validationThreads(), 30, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(config.queueRequestsMax()),
            Thread.ofPlatform().name("bulwark-validate-", 0).daemon().factory(), new ThreadPoolExecutor.AbortPolicy()),
        java.util.concurrent.Executors.newFixedThreadPool(config.validationThreads(),
            Thread.ofPlatform().name("bulwark-receipts-", 0).daemon().factory()),
        true);
  }

  private Sequencer(Application<Q, R> app, EngineConfig config, Replica replica, Replicator replicator,
      SigningKey operatorKey, InstantSource clock, Ticker ticker, Executor validation, Executor receiptWork,
      boolean ownThread) {
    this.app = app;
    this.config = config;
    this.replica = replica;
    this.replicator = replicator;
    this.operatorKey = operatorKey;
    this.clock = clock;
    this.ticker = ticker;
    this.queue = new ArrayBlockingQueue<>(config.queueRequestsMax());
    this.slots = new Semaphore(config.pipelineDepth());
    this.validation = validation;
    this.receiptWork = receiptWork;
    loadCommitted();
    this.thread = ownThread ? Thread.ofPlatform().name("bulwark-sequencer").daemon().unstarted(this::run) : null;
    if (thread != null) {
      thread.start();
    }
  }

  /**
   * A sequencer without a thread, for a simulator: it runs only inside {@link #step}, reads time
   * from {@code ticker} and {@code clock}, and runs validation and receipt work on the given
   * executors (which it does not shut down). Everything else is as in production.
   */
  public static <Q, R> Sequencer<Q, R> stepped(Application<Q, R> app, EngineConfig config, Replica replica,
      Replicator replicator, SigningKey operatorKey, InstantSource clock, Ticker ticker, Executor validation,
      Executor receiptWork) {
    return new Sequencer<>(app, config, replica, replicator, operatorKey, clock, ticker, validation, receiptWork, false);
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

  /** {@link #submit(ClientRequest, Origin, boolean)}, asking for state proofs in the receipt. */
  public CompletableFuture<Outcome> submit(ClientRequest request, Origin origin) {
    return submit(request, origin, true);
  }

  /**
   * Runs stages 2 and 3 on the validation pool, then queues the request for the sequencer.
   * {@code stateProofs}: whether its per-batch receipt should carry proofs of the state entries
   * it wrote (when the engine adds them at all, {@link EngineConfig#stateProofsInReceipts}).
   */
  public CompletableFuture<Outcome> submit(ClientRequest request, Origin origin, boolean stateProofs) {
    CompletableFuture<Outcome> future = new CompletableFuture<>();
    if (stopping) {
      future.complete(new Outcome.NotCommitted("this replica is shutting down"));
      return future;
    }
    try {
      validation.execute(() -> validateAndQueue(request, origin, stateProofs, future));
    } catch (RejectedExecutionException e) {
      future.complete(new Outcome.Busy("too many requests waiting for validation"));
    }
    return future;
  }

  private void validateAndQueue(ClientRequest request, Origin origin, boolean stateProofs,
      CompletableFuture<Outcome> future) {
    Q payload;
    try {
      payload = app.requestCodec().decode(request.payload());
    } catch (DecodeException | IllegalArgumentException e) {
      future.complete(new Outcome.Rejected("MALFORMED", "the request does not decode: " + e.getMessage()));
      return;
    }
    Check check = app.validate(payload, origin);
    if (check instanceof Check.Rejected rejected) {
      // Pure checks: every copy of this request fails them, so none of them can be in the log.
      future.complete(new Outcome.Rejected(rejected.code(), rejected.message()));
      return;
    }
    Check.Rejected optimisticRejection = null;
    if (!isRetryOfCommitted(request)) {
      // A retry of a committed request would fail against the state it changed; the sequencer
      // answers it with the original outcome instead.
      try (StoreSnapshot snapshot = replica.objects().snapshot()) {
        if (app.validate(payload, reader(snapshot)) instanceof Check.Rejected rejected) {
          // Not answered here: a copy of this request may be ahead of it in the pipeline (a
          // retry of one whose answer was lost), or this replica may no longer lead. The
          // sequencer answers it as a retry then, or "rejected" once its batch commits.
          optimisticRejection = rejected;
        }
      }
    }
    if (!queue.offer(new Pending<>(request, request.digest(), payload, future, optimisticRejection, stateProofs))) {
      future.complete(new Outcome.Busy("the sequencer queue is full (" + config.queueRequestsMax() + ")"));
    } else if (stopping) {
      // Validated while the sequencer stopped: it may have drained the queue already.
      answerQueued("this replica stopped sequencing; retry");
    }
  }

  private boolean isRetryOfCommitted(ClientRequest request) {
    return EngineTables.SESSIONS.get(replica.objects().store(), request.clientId())
        .map(session -> request.sequence() <= session.sequence())
        .orElse(false);
  }

  // ---------------------------------------------------------------- the sequencer thread

  /** The production driver: steps, then waits for what the step waits for, at most 20 ms at a time. */
  private void run() {
    try {
      while (true) {
        long wakeAtNs = advance();
        if (wakeAtNs == STOPPED) {
          return;
        }
        switch (awaiting) {
          case REQUEST -> {
            long waitNs = wakeAtNs == NO_DEADLINE ? WAIT_NS_MAX : Math.min(wakeAtNs - ticker.nanos(), WAIT_NS_MAX);
            if (waitNs > 0) {
              arrived = queue.poll(waitNs, TimeUnit.NANOSECONDS);
            }
          }
          case SLOT -> {
            if (slots.tryAcquire(WAIT_NS_MAX, TimeUnit.NANOSECONDS)) {
              slots.release(); // the next step takes it; only this thread takes slots
            }
          }
          case IDLE -> {
            if (slots.tryAcquire(config.pipelineDepth(), WAIT_NS_MAX, TimeUnit.NANOSECONDS)) {
              slots.release(config.pipelineDepth());
            }
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      // A broken invariant: stop loudly rather than leave requests waiting on a dead thread.
      LOG.error("the sequencer stops: {}", e.toString(), e);
      stopping = true;
      answerQueued("the sequencer stopped on an internal error; retry");
      throw e;
    }
  }

  /**
   * Runs the sequencing logic as far as it goes without waiting, for a simulator driving a
   * sequencer made with {@link #stepped}. Returns the {@link Ticker} time at which to call it
   * again if nothing happens before, {@link #NO_DEADLINE} if only news can move it on (a request
   * queued, a batch done), or {@link #STOPPED} once it was closed and has finished.
   */
  public long step() {
    if (thread != null) {
      throw new IllegalStateException("this sequencer has its own thread");
    }
    return advance();
  }

  private long advance() {
    while (true) {
      if (open != null) {
        if (open.entries.size() + open.answeredLater.size() >= config.batchRequestsMax()
            || open.payloadBytes >= config.batchBytesMax()) {
          closeOpen();
          continue;
        }
        if (arrived != null) {
          Pending<Q> next = arrived;
          arrived = null;
          if (next != WAKE) {
            open.add(next);
          }
          continue;
        }
        Pending<Q> next;
        if (config.batchDelayMs() == 0) {
          // Adaptive: see the note on filling a batch, below.
          if (takeThenClose < 0 && (inFlightBatches < config.pipelineDepth() - 1 || stopping || resetReason.get() != null)) {
            takeThenClose = queue.size();
          }
          if (takeThenClose == 0) {
            closeOpen();
            continue;
          }
          next = queue.poll();
          if (takeThenClose > 0) {
            takeThenClose--;
            if (next == null) {
              closeOpen();
              continue;
            }
          } else if (next == null) {
            awaiting = Awaiting.REQUEST; // a request, or WAKE when a batch ahead completes
            return NO_DEADLINE;
          }
        } else {
          next = queue.poll();
          if (next == null) {
            if (ticker.nanos() - closeAtNs >= 0) {
              closeOpen();
              continue;
            }
            awaiting = Awaiting.REQUEST;
            return closeAtNs;
          }
        }
        if (next != WAKE) {
          open.add(next);
        }
        continue;
      }
      if (first == null) {
        if (stopping) {
          answerQueued("this replica stopped sequencing; retry");
          return STOPPED;
        }
        String reason = resetReason.get();
        if (reason != null) {
          // After a batch failed to commit: wait until nothing is in flight (later batches fail
          // too, built on the lost one), then start again from what is committed.
          if (!slots.tryAcquire(config.pipelineDepth())) {
            awaiting = Awaiting.IDLE;
            return NO_DEADLINE;
          }
          slots.release(config.pipelineDepth());
          lastResetReason = resetReason.getAndSet(null);
          loadCommitted();
        }
        first = arrived != null ? arrived : queue.poll();
        arrived = null;
        if (first == WAKE) {
          first = null;
          continue;
        }
        if (first == null) {
          awaiting = Awaiting.REQUEST;
          return NO_DEADLINE;
        }
      }
      if (!slots.tryAcquire()) {
        if (stopping || resetReason.get() != null) {
          first.future().complete(new Outcome.NotCommitted("the pipeline restarted; retry"));
          first = null;
          continue;
        }
        awaiting = Awaiting.SLOT;
        return NO_DEADLINE;
      }
      Pending<Q> starting = first;
      first = null;
      if (resetReason.get() != null) {
        // The slot came from a batch that did not commit: restart from the committed state first.
        slots.release();
        starting.future().complete(new Outcome.NotCommitted("the pipeline restarted; retry"));
        continue;
      }
      open = new Batch(nextBatch, clock.millis());
      open.add(starting);
      closeAtNs = open.openedNanos + TimeUnit.MILLISECONDS.toNanos(config.batchDelayMs());
      takeThenClose = -1;
    }
  }

  /**
   * Closes the open batch. How a batch fills, before that: with a time slice
   * ({@code batchDelayMs > 0}) it closes when the slice ends. Adaptive, it closes as soon as the pipeline has room for it without waiting, fewer
   * than {@code pipelineDepth - 1} batches ahead of it in flight, after taking what is queued
   * at that moment. So an idle system answers in about one commit, and under load a batch grows
   * while the one ahead of it replicates (group commit) instead of many small batches each
   * paying its own state root, head signature, log entry and fsync.
   */
  private void closeOpen() {
    Batch batch = open;
    open = null;
    close(batch);
  }

  private void answerQueued(String reason) {
    Pending<Q> p;
    while ((p = queue.poll()) != null) {
      if (p != WAKE) {
        p.future().complete(new Outcome.NotCommitted(reason));
      }
    }
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
    final long openedNanos = ticker.nanos();
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
      this.tx = new Transaction(base, lastBatchWrites);
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
      applyOrReject(p);
    }

    /** A new request: applied, or, if it failed the optimistic check, rejected once this batch commits. */
    private void applyOrReject(Pending<Q> p) {
      Check.Rejected rejected = p.rejected();
      if (rejected == null) {
        apply(p);
        return;
      }
      answeredLater.add(committedOk -> p.future().complete(committedOk
          ? new Outcome.Rejected(rejected.code(), rejected.message())
          : new Outcome.NotCommitted("the batch answering this request did not commit; retry")));
    }

    /** Handles a request at or below the client's latest sequence; false if it is a new one. */
    private boolean answerRetry(Pending<Q> p, long latestSequence, Digest latestDigest, boolean originalNow,
        java.util.function.Supplier<Outcome> original) {
      long seq = p.request().sequence();
      if (seq > latestSequence) {
        if (latestByClient.containsKey(p.request().clientId())) {
          applyOrReject(p);
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
    long closingNanos = ticker.nanos();
    batch.answeredNow.forEach(Runnable::run);
    if (resetReason.get() != null) {
      // A batch in flight failed while this one filled: this one is built on it, so it must
      // not reach the log (it would follow a batch that is not there). Nothing of it happened.
      abandon(batch);
      return;
    }
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
    lastBatchWrites = writes.size();
    BatchEntry entry = new BatchEntry(batch.number, writes, signed);

    synchronized (inFlight) {
      inFlight.addLast(new InFlight(batch.number, writes));
      inFlightBatches = inFlight.size();
    }
    nextBatch = batch.number + 1;
    logState = log.state();
    stateRoot = state.root();
    previousHeadHash = head.hash();

    long sealedNanos = ticker.nanos();
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
        ? addStateProofs(batch, writes, state.root(), updates) : CompletableFuture.completedFuture(null);
    // The batch leaves the pipeline once it is replicated and its receipts are complete.
    replicated.handle((ok, failure) -> {
      if (failure != null) {
        // At once, not when the receipts are done too: the batch being filled now, and whoever
        // takes a slot next, must see that the sequencer's state (next batch, roots, log) ran
        // ahead of what committed.
        boolean unknown = cause(failure) instanceof OutcomeUnknownException;
        resetReason.compareAndSet(null, "batch " + batch.number + (unknown ? " has an unknown outcome: " : " was not committed: ")
            + rootMessage(failure));
      }
      return failure;
    }).thenAcceptBoth(receipts, (failure, receiptFailure) -> {
      boolean committedOk = failure == null;
      boolean unknown = !committedOk && cause(failure) instanceof OutcomeUnknownException;
      synchronized (inFlight) {
        if (committedOk) {
          // Committed, so every batch before it is committed and applied too: their layers go
          // with it. A layer left behind while a later batch's layer went would sit on top of a
          // store that already holds the later batch's writes, and show older values of the
          // keys both wrote (answers can arrive out of order: receipts of a big batch take longer).
          while (!inFlight.isEmpty() && inFlight.peekFirst().batchNumber() <= batch.number) {
            inFlight.removeFirst();
          }
        } else {
          inFlight.removeIf(f -> f.batchNumber() == batch.number);
        }
        inFlightBatches = inFlight.size();
      }
      slots.release();
      queue.offer(wake());
      watching.done(batch.number, batch.entries.size(), committedOk, ticker.nanos() - sealedNanos);
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

  private void abandon(Batch batch) {
    slots.release();
    for (Applied a : batch.entries) {
      a.pending().future().complete(new Outcome.NotCommitted("the pipeline restarted before batch " + batch.number
          + " was sealed; retry"));
    }
    for (Consumer<Boolean> later : batch.answeredLater) {
      later.accept(false);
    }
  }

  /**
   * Adds to each receipt of {@code batch} whose request asked for them the proofs of the state
   * entries it wrote, off the sequencer thread and while the batch replicates. The keys of the
   * whole batch are proven together ({@link BatchStateProver}: one walk down the new trie, the
   * shared upper levels loaded and encoded once); the trie nodes are read from the batch's own
   * writes over the view it was built on. Completes with the failure, if any (a proof that
   * does not show what the batch wrote is a bug; those receipts then go without proofs).
   */
  private CompletableFuture<Throwable> addStateProofs(Batch batch, WriteSet writes, Digest root,
      List<StateUpdate> updates) {
    List<Applied> asking = new ArrayList<>();
    LinkedHashSet<Bytes> keys = new LinkedHashSet<>();
    for (Applied a : batch.entries) {
      if (!a.touched.isEmpty() && a.pending().stateProofs() && a.receipt instanceof Receipt.PerBatch) {
        asking.add(a);
        keys.addAll(a.touched.size() <= Receipt.PerBatch.STATE_PROOFS_MAX ? a.touched
            : a.touched.subList(0, Receipt.PerBatch.STATE_PROOFS_MAX));
      }
    }
    if (asking.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    NodeLoader loader = replica.state().loader(writes.over(batch.base));
    return CompletableFuture.runAsync(() -> {
      Map<Bytes, Optional<Bytes>> written = HashMap.newHashMap(updates.size());
      for (StateUpdate u : updates) {
        written.put(u.key(), u.value());
      }
      Map<Bytes, StateEntryProof> proven = BatchStateProver.prove(loader, root, List.copyOf(keys), written);
      for (Applied a : asking) {
        Receipt.PerBatch pb = (Receipt.PerBatch) a.receipt;
        List<StateEntryProof> proofs = new ArrayList<>(Math.min(a.touched.size(), Receipt.PerBatch.STATE_PROOFS_MAX));
        for (Bytes key : a.touched) {
          if (proofs.size() == Receipt.PerBatch.STATE_PROOFS_MAX) {
            break;
          }
          proofs.add(proven.get(key));
        }
        a.receipt = new Receipt.PerBatch(pb.confirmation(), pb.head(), pb.inclusion(), proofs);
      }
    }, receiptWork).handle((ok, failure) -> {
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

  /** Stops taking requests; answers every queued one "not committed". */
  @Override
  public void close() {
    stopping = true;
    if (thread == null) {
      return; // stepped: the simulator steps it until it reports STOPPED
    }
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    ((ExecutorService) validation).shutdown();
    answerQueued("this replica stopped sequencing; retry");
    try {
      // Batches already handed to the replicator finish (or fail) on their own.
      slots.tryAcquire(config.pipelineDepth(), 30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    ((ExecutorService) receiptWork).shutdown();
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
