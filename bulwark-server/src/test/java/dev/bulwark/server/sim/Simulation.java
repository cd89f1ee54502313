package dev.bulwark.server.sim;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.app.StateMirror;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.Entry;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.core.receipt.BatchHead;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.core.receipt.VerifiedHeads;
import dev.bulwark.core.state.AuthenticatedMap;
import dev.bulwark.server.engine.BatchEntry;
import dev.bulwark.server.engine.EngineConfig;
import dev.bulwark.server.engine.NotCommittedException;
import dev.bulwark.server.engine.OutcomeUnknownException;
import dev.bulwark.server.engine.ReceiptMode;
import dev.bulwark.server.engine.Replica;
import dev.bulwark.server.engine.Replicator;
import dev.bulwark.server.engine.Sequencer;
import dev.bulwark.store.Durability;
import dev.bulwark.store.ObjectStore;
import dev.bulwark.store.state.StateConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * One seeded run of the leader's pipeline against a simulated Raft log, on one thread.
 *
 * <p>Everything that varies comes from one {@link SplittableRandom}: the engine's limits, the
 * clients and what they send (retries with the same sequence number, concurrent duplicates,
 * reused sequence numbers, invalid requests), the delays of validation, receipt work, the
 * network and replication, and the faults. Time is simulated: an event queue ordered by time
 * (ties by insertion) drives everything, and after every event each live sequencer is
 * {@linkplain Sequencer#step stepped}. The same seed therefore makes the same run; the trace
 * digest shows it.
 *
 * <p>The log ({@link Term}, one per leadership) follows what Raft allows: a batch is refused
 * when handed over (not appended), or appended; appended batches commit in log order, are
 * applied to the leader's replica, and are acknowledged after a further delay, so
 * acknowledgements arrive late and out of order. An appended batch may be dropped: it never
 * commits, and stalls the ones behind it, until leadership changes. When leadership is lost,
 * a prefix of the uncommitted batches survives (the next leader commits it), every
 * uncommitted batch's future fails "outcome unknown", and later hand-overs are refused. The
 * next leader is one of the replicas (real {@link Replica}s, over {@link SimStores}) caught up to the
 * committed log, with a fresh sequencer, as in {@code ReplicaServer}.
 *
 * <p>After the run: liveness (every client finished, once faults stopped), the committed log
 * (batch numbers, head chain and signatures, log sizes, state roots proving the model's
 * values), a replica that only ever applied the log (the auditor) equal key for key to every
 * other replica, the model replayed from the committed requests equal to the state, and every
 * answer a client got consistent with the log (confirmed: there once, where its receipt says;
 * not committed or rejected and then given up: absent; never two entries for one client and
 * sequence number).
 */
final class Simulation implements AutoCloseable {
  static final int REPLICAS = 3;
  private static final long MS = 1_000_000L;
  private static final Instant EPOCH = Instant.parse("2026-01-01T00:00:00Z");
  private static final int TRACE_TAIL = 60;

  /** What a run found. */
  record Result(long seed, String replay, long traceDigest, List<String> violations, List<String> traceTail,
      String summary, int batchesCommitted) {
    boolean ok() {
      return violations.isEmpty();
    }

    String report() {
      StringBuilder b = new StringBuilder();
      b.append("seed ").append(seed).append(": ").append(ok() ? "ok" : violations.size() + " violation(s)").append(" (")
          .append(summary).append(")\n");
      for (String v : violations.subList(0, Math.min(10, violations.size()))) {
        b.append("  VIOLATION ").append(v).append('\n');
      }
      if (!ok()) {
        b.append("  last events:\n");
        for (String t : traceTail) {
          b.append("    ").append(t).append('\n');
        }
        b.append("  replay: ").append(replay).append('\n');
      }
      return b.toString();
    }
  }

  // ---------------------------------------------------------------- the world

  private final long seed;
  private final SimStores.Kind storeKind;
  private final SplittableRandom random;
  private final ObjectStore[] stores;
  private final SigningKey operator;
  /** Heads whose signature was checked once, for the checks. */
  private final VerifiedHeads heads;
  private int receiptsVerified;
  private final EngineConfig config;
  private long nowNs;
  private long eventOrder;
  private final PriorityQueue<Event> events = new PriorityQueue<>(
      Comparator.comparingLong(Event::atNs).thenComparingLong(Event::order));
  private final List<String> violations = new ArrayList<>();
  private final ArrayDeque<String> traceTail = new ArrayDeque<>();
  private final int traceLinesMax;
  private long traceDigest = 0xcbf29ce484222325L;
  private boolean faultsOn = true;
  /** The copy being handed to a sequencer right now, for the validation pool to tag its task. */
  private Attempt submitting;
  private boolean broken;

  // Fault and timing parameters, drawn from the seed.
  private final long faultsEndNs;
  private final long endNs;
  private final double refuseChance;
  private final double dropChance;
  private final double busyChance;
  private final long leaderLossEveryNs;
  private final long replicateDelayNsMax;
  private final long ackDelayNsMax;

  private final InstantSource clock = new InstantSource() {
    @Override public Instant instant() {
      return EPOCH.plusNanos(nowNs);
    }
  };

  private record Event(long atNs, long order, Runnable action) {}

  // ---------------------------------------------------------------- the log and the replicas

  /** A committed log entry with the requests its batch applied (from the application's record). */
  private record Committed(BatchEntry entry, List<SimApp.Applied> ops, long logIndex, long term) {}

  private final List<Committed> committed = new ArrayList<>();
  /** The confirmation log's size after each head ever sealed, by head hash. */
  private final Map<Digest, Long> logSizeAfter = new java.util.HashMap<>(Map.of(BatchHead.ZERO, 0L));
  /** When each head was sealed (handed to the log), by head hash; and for the committed ones, by batch number. */
  private final Map<Digest, Long> sealedAt = new java.util.HashMap<>();
  private final Map<Long, Long> sealedAtNs = new java.util.HashMap<>();
  private final Replica[] replicas = new Replica[REPLICAS];
  private Replica auditor;
  private final List<Term> terms = new ArrayList<>();
  /** The term clients are routed to, while its replica still sequences; null between leaders. */
  private Term routed;
  private boolean electionPending;

  // ---------------------------------------------------------------- clients

  private final List<Client> clients = new ArrayList<>();
  private final List<Request> requests = new ArrayList<>();

  // ---------------------------------------------------------------- statistics

  private int leaderChanges;
  private int answersConfirmed;
  private int answersNotCommitted;
  private int answersUnknown;
  private int answersRejected;
  private int answersOther;
  private long eventsRun;

  /** A run of {@code seed} on fresh stores from {@code stores}, one per replica and the auditor. */
  Simulation(long seed, SimStores stores, boolean fullTrace) {
    this.traceLinesMax = fullTrace ? 1_000_000 : TRACE_TAIL;
    this.seed = seed;
    this.storeKind = stores.kind();
    this.stores = stores.fresh();
    this.random = new SplittableRandom(seed);
    this.operator = SigningKey.generate(new SplittableRandom(seed ^ 0x5eed));
    this.heads = new VerifiedHeads(operator.publicKey(), 1 << 16);
    boolean perBatch = random.nextBoolean();
    this.config = new EngineConfig("sim-operator", perBatch ? ReceiptMode.PER_BATCH : ReceiptMode.PER_REQUEST,
        random.nextBoolean(), 1 + random.nextInt(8), 1024, random.nextInt(3) == 0 ? 1 + random.nextInt(5) : 0,
        2 + random.nextInt(3), 4 + random.nextInt(60), 2, StateConfig.DEFAULT.withRetainedVersions(100_000));
    this.faultsEndNs = (300 + random.nextInt(1500)) * MS;
    this.endNs = faultsEndNs + 30_000 * MS;
    this.refuseChance = random.nextInt(4) == 0 ? 0 : random.nextDouble() * 0.1;
    this.dropChance = random.nextInt(4) == 0 ? 0 : random.nextDouble() * 0.05;
    this.busyChance = random.nextInt(2) == 0 ? 0 : random.nextDouble() * 0.05;
    this.leaderLossEveryNs = (100 + random.nextInt(1000)) * MS;
    this.replicateDelayNsMax = (1 + random.nextInt(20)) * MS;
    this.ackDelayNsMax = (1 + random.nextInt(random.nextBoolean() ? 3 : 60)) * MS;
    int clientCount = 1 + random.nextInt(5);
    for (int i = 0; i < clientCount; i++) {
      clients.add(new Client(i, 2 + random.nextInt(18)));
    }
  }

  /** Runs the seed and checks it; never throws for what it finds. */
  Result run() {
    try {
      open();
      election();
      for (Client c : clients) {
        at(random.nextLong(5 * MS), c::sendNext);
      }
      for (long t = nextLossNs(0); t < faultsEndNs; t = nextLossNs(t)) {
        at(t, this::leaderLost);
      }
      at(faultsEndNs, this::faultsEnd);
      loop();
      if (!broken) {
        checkLiveness();
        checkLog();
      }
    } catch (RuntimeException | AssertionError e) {
      violation("the simulator stopped on " + e + stackTop(e));
    }
    String summary = String.format("%s, depth %d, batch<=%d, delay %dms, %d clients, %d requests, %d batches committed,"
            + " %d leader changes; answers: %d confirmed, %d not committed, %d unknown, %d rejected, %d other; %d events",
        config.receiptMode(), config.pipelineDepth(), config.batchRequestsMax(), config.batchDelayMs(), clients.size(),
        requests.size(), committed.size(), leaderChanges, answersConfirmed, answersNotCommitted, answersUnknown,
        answersRejected, answersOther, eventsRun);
    String replay = "./dev simulate --seed " + seed
        + (storeKind == SimStores.Kind.MEMORY ? "" : " --store " + storeKind.flag());
    return new Result(seed, replay, traceDigest, List.copyOf(violations), List.copyOf(traceTail), summary, committed.size());
  }

  private static String stackTop(Throwable e) {
    StackTraceElement[] st = e.getStackTrace();
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < Math.min(6, st.length); i++) {
      b.append("\n      at ").append(st[i]);
    }
    return b.toString();
  }

  private long nextLossNs(long after) {
    return after + leaderLossEveryNs / 2 + random.nextLong(leaderLossEveryNs);
  }

  private void open() {
    SimApp tablesOnly = new SimApp();
    for (int i = 0; i < REPLICAS; i++) {
      replicas[i] = new Replica(stores[i], tablesOnly, config, Durability.NO_SYNC);
    }
    auditor = new Replica(stores[REPLICAS], tablesOnly, config, Durability.NO_SYNC);
  }

  // ---------------------------------------------------------------- the event loop

  private void at(long atNs, Runnable action) {
    events.add(new Event(Math.max(atNs, nowNs), eventOrder++, action));
  }

  private void after(long delayNs, Runnable action) {
    at(nowNs + delayNs, action);
  }

  private void loop() {
    while (!broken && !events.isEmpty()) {
      Event e = events.poll();
      if (e.atNs() > endNs) {
        break;
      }
      nowNs = e.atNs();
      eventsRun++;
      e.action().run();
      stepSequencers();
    }
  }

  /** Steps every sequencer that still runs, and asks to be woken at its next deadline. */
  private void stepSequencers() {
    for (Term t : terms) {
      if (t.stopped) {
        continue;
      }
      long wakeAtNs;
      try {
        wakeAtNs = t.sequencer.step();
      } catch (RuntimeException | Error e) {
        violation("term " + t.number + ": the sequencer failed: " + e + stackTop(e));
        broken = true;
        return;
      }
      if (wakeAtNs == Sequencer.STOPPED) {
        t.stopped = true;
        trace("term " + t.number + " sequencer stopped");
      } else if (wakeAtNs != Sequencer.NO_DEADLINE && wakeAtNs != t.wakeAtNs) {
        t.wakeAtNs = wakeAtNs;
        at(wakeAtNs, () -> {
          if (t.wakeAtNs == wakeAtNs) {
            t.wakeAtNs = Sequencer.NO_DEADLINE;
          }
        });
      }
    }
  }

  private void trace(String line) {
    long micros = nowNs / 1000;
    String stamped = (micros / 1000) + "." + (char) ('0' + micros % 1000 / 100) + (char) ('0' + micros % 100 / 10)
        + (char) ('0' + micros % 10) + "ms " + line;
    for (int i = 0; i < stamped.length(); i++) {
      traceDigest = (traceDigest ^ stamped.charAt(i)) * 0x100000001b3L;
    }
    if (traceTail.size() == traceLinesMax) {
      traceTail.removeFirst();
    }
    traceTail.addLast(stamped);
  }

  private void violation(String what) {
    trace("VIOLATION " + what);
    violations.add(String.format("at %.3fms: %s", nowNs / 1e6, what));
  }

  /** Runs tasks after a random delay: a pool of threads, reordering them. */
  private final class SimExecutor implements Executor {
    private final long delayNsMax;
    private final double rejectChance;

    SimExecutor(long delayNsMax, double rejectChance) {
      this.delayNsMax = delayNsMax;
      this.rejectChance = rejectChance;
    }

    @Override public void execute(Runnable task) {
      if (faultsOn && rejectChance > 0 && random.nextDouble() < rejectChance) {
        throw new RejectedExecutionException("simulated: pool full");
      }
      Attempt attempt = submitting;
      if (attempt == null) {
        after(random.nextLong(delayNsMax + 1), task);
        return;
      }
      after(random.nextLong(delayNsMax + 1), () -> {
        task.run();
        attempt.validatedAtNs = nowNs;
        if (!attempt.future.isDone()) {
          attempt.queuedAtNs = nowNs;
        }
      });
    }
  }

  // ---------------------------------------------------------------- leadership and the log

  /** One leadership: the log as this leader sees it, and its sequencer. */
  private final class Term implements Replicator {
    final int number;
    final int replicaIndex;
    final SimApp app = new SimApp();
    final Sequencer<SimApp.Op, Long> sequencer;
    final ArrayDeque<Slot> uncommitted = new ArrayDeque<>();
    final List<Slot> unacknowledged = new ArrayList<>();
    boolean lost;
    boolean stopped;
    long wakeAtNs = Sequencer.NO_DEADLINE;

    Term(int number, int replicaIndex) {
      this.number = number;
      this.replicaIndex = replicaIndex;
      this.sequencer = Sequencer.stepped(app, config, replicas[replicaIndex], this, operator, clock, () -> nowNs,
          new SimExecutor(2 * MS, busyChance), new SimExecutor(3 * MS, 0));
    }

    @Override public CompletableFuture<Void> replicate(BatchEntry entry) {
      // The batch's applies are the last ones recorded (a batch abandoned before sealing leaves
      // its applies behind): as many as the head adds to the confirmation log.
      Long before = logSizeAfter.get(entry.head().head().previousHeadHash());
      int count = before == null ? -1 : (int) (entry.head().head().logSize() - before);
      if (count < 0 || count > app.recorded.size()) {
        violation("term " + number + ": batch " + entry.batchNumber() + " follows a head never sealed, or has "
            + count + " confirmations for " + app.recorded.size() + " applies");
        broken = true;
        count = Math.clamp(count, 0, app.recorded.size());
      }
      logSizeAfter.put(entry.head().head().hash(), entry.head().head().logSize());
      sealedAt.put(entry.head().head().hash(), nowNs);
      List<SimApp.Applied> ops = List.copyOf(app.recorded.subList(app.recorded.size() - count, app.recorded.size()));
      app.recorded.clear();
      for (SimApp.Applied a : ops) {
        if (a.batchNumber() != entry.batchNumber()) {
          violation("term " + number + ": batch " + entry.batchNumber() + " carries an apply made for batch " + a.batchNumber());
        }
      }
      String what = "term " + number + " batch " + entry.batchNumber() + " (" + ops.size() + " requests, head "
          + entry.head().head().hash().shortHex() + ")";
      CompletableFuture<Void> future = new CompletableFuture<>();
      if (lost) {
        trace(what + " refused: not leader");
        after(random.nextLong(MS), () -> future.completeExceptionally(new NotCommittedException("simulated: not leader")));
        return future;
      }
      if (faultsOn && random.nextDouble() < refuseChance) {
        trace(what + " refused on hand-over");
        return CompletableFuture.failedFuture(new NotCommittedException("simulated: refused"));
      }
      Slot slot = new Slot(entry, ops, future);
      uncommitted.addLast(slot);
      if (faultsOn && random.nextDouble() < dropChance) {
        trace(what + " appended, dropped");
      } else {
        trace(what + " appended");
        after(random.nextLong(replicateDelayNsMax + 1), () -> {
          slot.replicated = true;
          commitReady();
        });
      }
      return future;
    }

    /** Commits the replicated batches at the head of the uncommitted log, in log order. */
    void commitReady() {
      while (!lost && !broken && !uncommitted.isEmpty() && uncommitted.peekFirst().replicated) {
        Slot slot = uncommitted.removeFirst();
        if (!commit(slot, number)) {
          return;
        }
        catchUp(replicas[replicaIndex]); // the leader applies before it answers
        unacknowledged.add(slot);
        after(random.nextLong(ackDelayNsMax + 1), () -> {
          unacknowledged.remove(slot);
          if (slot.answerUnknown) {
            slot.future.completeExceptionally(new OutcomeUnknownException("simulated: leadership moved", null));
          } else {
            slot.future.complete(null);
          }
        });
      }
    }
  }

  private static final class Slot {
    final BatchEntry entry;
    final List<SimApp.Applied> ops;
    final CompletableFuture<Void> future;
    boolean replicated;
    boolean answerUnknown;

    Slot(BatchEntry entry, List<SimApp.Applied> ops, CompletableFuture<Void> future) {
      this.entry = entry;
      this.ops = ops;
      this.future = future;
    }
  }

  /** Appends to the committed log; false (and a violation) if the entry does not follow it. */
  private boolean commit(Slot slot, int term) {
    long expected = committed.size();
    if (slot.entry.batchNumber() != expected) {
      violation("the log commits batch " + slot.entry.batchNumber() + " where batch " + expected + " belongs");
      broken = true;
      return false;
    }
    committed.add(new Committed(slot.entry, slot.ops, committed.size(), term));
    sealedAtNs.put(slot.entry.batchNumber(), sealedAt.get(slot.entry.head().head().hash()));
    trace("commit batch " + slot.entry.batchNumber() + " (term " + term + ")");
    return true;
  }

  private void catchUp(Replica replica) {
    for (long i = replica.applied().logIndex() + 1; i < committed.size(); i++) {
      Committed c = committed.get((int) i);
      replica.apply(c.entry(), c.logIndex(), c.term());
    }
  }

  private void leaderLost() {
    Term t = terms.isEmpty() ? null : terms.getLast();
    if (t == null || t.lost) {
      return;
    }
    t.lost = true;
    int survivors = t.uncommitted.isEmpty() ? 0 : random.nextInt(t.uncommitted.size() + 1);
    trace("term " + t.number + " loses leadership; " + survivors + " of " + t.uncommitted.size()
        + " uncommitted batches survive");
    int i = 0;
    for (Slot slot : t.uncommitted) {
      if (i++ < survivors && !broken) {
        commit(slot, t.number + 1);
      }
      after(random.nextLong(5 * MS), () -> slot.future.completeExceptionally(
          new OutcomeUnknownException("simulated: leadership moved", null)));
    }
    t.uncommitted.clear();
    for (Slot slot : t.unacknowledged) {
      slot.answerUnknown = random.nextBoolean();
    }
    after(random.nextLong(20 * MS), () -> {
      if (routed == t) {
        routed = null;
      }
      trace("term " + t.number + " sequencer closes");
      t.sequencer.close();
    });
    if (!electionPending) {
      electionPending = true;
      after((30 + random.nextInt(300)) * MS, this::election);
    }
  }

  private void election() {
    electionPending = false;
    int index = random.nextInt(REPLICAS);
    catchUp(replicas[index]);
    Term t = new Term(terms.size() + 1, index);
    terms.add(t);
    routed = t;
    leaderChanges++;
    trace("term " + t.number + ": replica " + index + " leads from batch " + (replicas[index].applied().batchNumber() + 1));
  }

  private void faultsEnd() {
    faultsOn = false;
    trace("faults end");
    Term t = terms.getLast();
    // A dropped batch stalls the log until leadership changes; so does one refused after the loss.
    if (!t.lost && !t.uncommitted.isEmpty()) {
      boolean stalled = false;
      for (Slot s : t.uncommitted) {
        stalled |= !s.replicated;
      }
      if (stalled) {
        leaderLost();
      }
    }
  }

  // ---------------------------------------------------------------- clients

  /** What one (client, sequence) became: its variants and every answer. */
  private static final class Request {
    final Client client;
    final long sequence;
    final List<Variant> variants = new ArrayList<>();

    Request(Client client, long sequence) {
      this.client = client;
      this.sequence = sequence;
    }
  }

  /** One copy of a variant sent to a sequencer: when it was validated, whether it was queued. */
  private static final class Attempt {
    Term term;
    CompletableFuture<Outcome> future;
    long validatedAtNs = Long.MAX_VALUE;
    long queuedAtNs = Long.MAX_VALUE;
    Outcome answer;
  }

  /** One content sent under a (client, sequence), with its answers. */
  private static final class Variant {
    final int number;
    final SimApp.Op op; // null: a malformed payload
    final ClientRequest request;
    final List<Outcome> answers = new ArrayList<>();
    final List<Attempt> attempts = new ArrayList<>();
    /** Set when the client gave it up after answers that say it is not in the log. */
    boolean givenUp;

    Variant(int number, SimApp.Op op, ClientRequest request) {
      this.number = number;
      this.op = op;
      this.request = request;
    }
  }

  private final class Client {
    final int index;
    final Bytes id;
    int remaining;
    long sequence;
    Request current;
    Variant sending;
    int outstanding;
    int attempts;
    boolean done;
    /** The answers to the copies sent last. */
    final List<Outcome> round = new ArrayList<>();
    /** An answer said "unknown" and no later one settled it: only the same request may follow. */
    boolean unknownPending;

    Client(int index, int requestCount) {
      this.index = index;
      this.id = Bytes.utf8("client-" + index);
      this.remaining = requestCount;
    }

    String tag(long seq, int variant) {
      return index + "/" + seq + "/" + variant;
    }

    void sendNext() {
      if (remaining == 0) {
        done = true;
        trace("client " + index + " done");
        return;
      }
      remaining--;
      sequence += random.nextInt(8) == 0 ? 2 : 1; // sequence numbers may skip
      current = new Request(this, sequence);
      unknownPending = false;
      requests.add(current);
      attempts = 0;
      newVariant();
    }

    void newVariant() {
      int v = current.variants.size();
      Variant variant;
      int kind = random.nextInt(20);
      if (kind == 0) {
        variant = new Variant(v, null, new ClientRequest(id, sequence, Bytes.fromHex("ff0102")));
      } else {
        long delta = kind == 1 ? 0 : random.nextBoolean() ? 1 + random.nextInt(10) : -(1 + random.nextInt(12));
        SimApp.Op op = new SimApp.Op(tag(sequence, v), random.nextInt(SimApp.COUNTERS), delta);
        variant = new Variant(v, op, new ClientRequest(id, sequence, SimApp.OP.encode(op)));
      }
      current.variants.add(variant);
      sending = variant;
      send();
    }

    /** Sends the current variant, sometimes twice at once (a duplicate on another connection). */
    void send() {
      attempts++;
      round.clear();
      int copies = faultsOn && random.nextInt(10) == 0 ? 2 : 1;
      for (int i = 0; i < copies; i++) {
        outstanding++;
        Variant v = sending;
        // A second copy comes a little later, as a retry on another connection would.
        after(random.nextLong((i == 0 ? 2 : 15) * MS), () -> submit(v));
      }
    }

    void submit(Variant v) {
      Term t = routed;
      trace("client " + index + " sends " + tag(current.sequence, v.number) + (t == null ? " (no leader)" : " to term " + t.number));
      if (t == null) {
        after(random.nextLong(MS), () -> answered(v, new Outcome.NotLeader(Optional.empty())));
        return;
      }
      Attempt attempt = new Attempt();
      attempt.term = t;
      v.attempts.add(attempt);
      submitting = attempt;
      try {
        attempt.future = t.sequencer.submit(v.request);
      } finally {
        submitting = null;
      }
      attempt.future.whenComplete((outcome, failure) -> {
        Outcome o = failure != null ? new Outcome.NotCommitted("failed: " + failure) : outcome;
        attempt.answer = o;
        after(random.nextLong(3 * MS), () -> answered(v, o));
      });
    }

    void answered(Variant v, Outcome o) {
      outstanding--;
      v.answers.add(o);
      round.add(o);
      trace("client " + index + " " + tag(current.sequence, v.number) + " <- " + describe(o));
      switch (o) {
        case Outcome.Confirmed c -> answersConfirmed++;
        case Outcome.NotCommitted n -> answersNotCommitted++;
        case Outcome.Unknown u -> answersUnknown++;
        case Outcome.Rejected r -> answersRejected++;
        default -> answersOther++;
      }
      if (outstanding > 0) {
        return;
      }
      // Decided on this round's answers (the copies sent together), and on whether an earlier
      // round left the request's fate unknown.
      boolean confirmed = false;
      boolean unknown = false;
      boolean rejected = false;
      boolean notCommitted = false;
      for (Outcome a : round) {
        confirmed |= a instanceof Outcome.Confirmed;
        unknown |= a instanceof Outcome.Unknown;
        rejected |= a instanceof Outcome.Rejected;
        notCommitted |= a instanceof Outcome.NotCommitted;
      }
      unknownPending = !confirmed && (unknown || (unknownPending && !rejected));
      long thinkNs = random.nextLong(5 * MS);
      if (confirmed) {
        after(thinkNs, this::sendNext);
      } else if (unknownPending) {
        after(backoffNs(), this::send); // must find out: the same request again
      } else if (rejected) {
        sending.givenUp = true;
        after(thinkNs, this::sendNext);
      } else if (attempts > 400) {
        violation("client " + index + " gave up on " + tag(current.sequence, sending.number) + " after 400 attempts");
        sending.givenUp = true;
        after(thinkNs, this::sendNext);
      } else if (notCommitted && random.nextInt(6) == 0) {
        sending.givenUp = true; // definitely not committed: the client may drop it...
        after(thinkNs, this::sendNext);
      } else if (notCommitted && random.nextInt(6) == 0) {
        sending.givenUp = true; // ... or reuse its sequence number for something else
        after(thinkNs, this::newVariant);
      } else {
        after(backoffNs(), this::send);
      }
    }

    long backoffNs() {
      return MS + random.nextLong(Math.min(50, 1 + attempts * 5L) * MS);
    }
  }

  private static String describe(Outcome o) {
    return switch (o) {
      case Outcome.Confirmed c -> "confirmed " + (c.result() instanceof ResultEnvelope.Applied ? "applied" : "refused")
          + " in batch " + c.receipt().confirmation().batchNumber() + "#" + c.receipt().confirmation().indexInBatch();
      case Outcome.Rejected r -> "rejected " + r.code();
      case Outcome.NotCommitted n -> "not committed (" + n.reason() + ")";
      case Outcome.Unknown u -> "unknown (" + u.reason() + ")";
      case Outcome.NotLeader n -> "not leader";
      case Outcome.Busy b -> "busy";
    };
  }

  // ---------------------------------------------------------------- checks

  private void checkLiveness() {
    for (Client c : clients) {
      if (!c.done) {
        violation("client " + c.index + " never finished: " + c.remaining + " requests left, "
            + (c.current == null ? "none" : c.tag(c.current.sequence, c.sending.number)) + " has " + c.outstanding
            + " attempts unanswered after " + c.attempts + " sends");
      }
    }
  }

  private void checkLog() {
    catchUp(auditor);
    for (Replica r : replicas) {
      catchUp(r);
    }
    // The chain of heads, batch by batch, with the model replayed beside it.
    Map<Integer, Long> counters = new TreeMap<>();
    Map<String, Long> timesApplied = new TreeMap<>();
    Map<String, SimApp.Applied> placeOf = new LinkedHashMap<>();
    Map<String, Integer> entriesPerRequest = new LinkedHashMap<>();
    Digest previous = BatchHead.ZERO;
    long logSize = 0;
    for (Committed c : committed) {
      SignedBatchHead signed = c.entry().head();
      BatchHead head = signed.head();
      String batch = "batch " + c.entry().batchNumber();
      if (!signedByOperator(signed)) {
        violation(batch + ": the head's signature does not verify");
      }
      if (!head.previousHeadHash().equals(previous)) {
        violation(batch + ": the head does not link to the head before it");
      }
      previous = head.hash();
      for (int i = 0; i < c.ops().size(); i++) {
        SimApp.Applied a = c.ops().get(i);
        if (a.indexInBatch() != i) {
          violation(batch + ": request " + a.op().tag() + " was applied at index " + a.indexInBatch() + ", logged at " + i);
        }
        long now = counters.getOrDefault(a.op().counter(), 0L);
        boolean refuse = now + a.op().delta() < 0;
        if (refuse != a.refused()) {
          violation(batch + ": " + a.op().tag() + " was " + (a.refused() ? "refused" : "applied") + " but the model "
              + (refuse ? "refuses" : "applies") + " it (counter " + a.op().counter() + " = " + now + ")");
        }
        if (!refuse) {
          counters.put(a.op().counter(), now + a.op().delta());
          timesApplied.merge(a.op().tag(), 1L, Long::sum);
        }
        placeOf.put(a.op().tag(), a);
        entriesPerRequest.merge(requestKey(a.op().tag()), 1, Integer::sum);
      }
      logSize += c.ops().size();
      if (head.logSize() != logSize) {
        violation(batch + ": the head says " + head.logSize() + " confirmations, the log holds " + logSize);
      }
      // The state root proves the model's counters at this batch.
      for (int k = 0; k < SimApp.COUNTERS; k++) {
        checkProven(head, SimApp.COUNTER, k, Optional.ofNullable(counters.get(k)));
      }
    }
    if (!committed.isEmpty()) {
      if (!heads.verify(committed.getLast().entry().head())) {
        violation("the last head's signature does not verify");
      }
      BatchHead last = committed.getLast().entry().head().head();
      for (Map.Entry<String, Long> e : timesApplied.entrySet()) {
        checkProven(last, SimApp.TIMES_APPLIED, e.getKey(), Optional.of(e.getValue()));
      }
      for (int k = 0; k < SimApp.COUNTERS; k++) {
        Optional<Long> stored = StateMirror.get(auditor.objects().store(), SimApp.COUNTER, k);
        if (!stored.equals(Optional.ofNullable(counters.get(k)))) {
          violation("counter " + k + " is " + stored + " in the store, " + counters.get(k) + " in the model");
        }
      }
    }
    entriesPerRequest.forEach((request, n) -> {
      if (n > 1) {
        violation("request " + request + " is in the log " + n + " times");
      }
    });
    checkAnswers(placeOf);
    checkReplicasEqual();
  }

  /** "client/sequence" of a tag "client/sequence/variant". */
  private static String requestKey(String tag) {
    return tag.substring(0, tag.lastIndexOf('/'));
  }

  private <K> void checkProven(BatchHead head, AuthenticatedMap<K, Long> map, K key, Optional<Long> expected) {
    var proof = auditor.state().prove(head.batchNumber(), map.keyBytes(key));
    AuthenticatedMap.Checked<Long> checked = map.check(head.stateRoot(), key, proof);
    Optional<Long> proven = switch (checked) {
      case AuthenticatedMap.Checked.Present<Long> p -> Optional.of(p.value());
      case AuthenticatedMap.Checked.Absent<Long> a -> Optional.empty();
      case AuthenticatedMap.Checked.Invalid<Long> i -> {
        violation("batch " + head.batchNumber() + ": the proof of " + map.name() + " " + key + " is invalid: " + i.reason());
        yield expected;
      }
    };
    if (!proven.equals(expected)) {
      violation("batch " + head.batchNumber() + ": the state root proves " + map.name() + " " + key + " = " + proven
          + ", the model has " + expected);
    }
  }

  private void checkAnswers(Map<String, SimApp.Applied> placeOf) {
    for (Request r : requests) {
      for (Variant v : r.variants) {
        String tag = r.client.tag(r.sequence, v.number);
        SimApp.Applied place = v.op == null ? null : placeOf.get(tag);
        boolean rejected = false;
        for (Outcome o : v.answers) {
          if (o instanceof Outcome.Confirmed c) {
            checkConfirmed(tag, place, c);
          }
        }
        for (Attempt a : v.attempts) {
          if (!(a.answer instanceof Outcome.Rejected rejection) || place == null) {
            continue;
          }
          rejected = true;
          // A copy validated after this one was rejected is a new attempt and may apply; one
          // already queued when it was rejected is ahead of it: this one is then a retry of it.
          boolean copyAhead = sealedAtNs.getOrDefault(place.batchNumber(), Long.MAX_VALUE) < a.validatedAtNs;
          for (Attempt other : v.attempts) {
            copyAhead |= other != a && other.term == a.term && other.queuedAtNs < a.validatedAtNs
                && other.answer instanceof Outcome.Confirmed;
          }
          boolean dedupCode = rejection.code().equals("SEQUENCE_REUSED") || rejection.code().equals("STALE_SEQUENCE");
          if (copyAhead || dedupCode) {
            violation(tag + " was answered rejected (" + rejection.code() + ": " + rejection.message()
                + ") but is in the log, batch " + place.batchNumber() + (copyAhead ? ", from a copy queued before it" : ""));
          }
        }
        if (v.givenUp && place != null && !rejected) {
          violation(tag + " is in the log (batch " + place.batchNumber() + ") although every answer said it was not: "
              + v.answers.stream().map(Simulation::describe).toList());
        }
      }
    }
  }

  /**
   * Whether the operator signed {@code signed}. Ed25519 signatures are deterministic, so the
   * operator's signature of a head is the only one it makes: signing it again and comparing is
   * the same check as verifying, at less than half the cost, where the head is not checked
   * again anyway. Per-batch receipts carry the heads, and check them through {@link #heads}: in
   * that mode the heads are verified, once each.
   */
  private boolean signedByOperator(SignedBatchHead signed) {
    if (config.receiptMode() == ReceiptMode.PER_BATCH) {
      return heads.verify(signed);
    }
    return SignedBatchHead.sign(signed.head(), operator).equals(signed);
  }

  /**
   * Whether {@code receipt} verifies: in full (the client's check) for the first receipt of a
   * run and every per-batch one (whose heads are then known); a per-request receipt after the
   * first is checked to be the one the operator makes for its confirmation, as in
   * {@link #signedByOperator}.
   */
  private boolean receiptVerifies(Receipt receipt) {
    if (receipt instanceof Receipt.PerRequest r && receiptsVerified > 0) {
      return Receipt.PerRequest.sign(r.confirmation(), operator).equals(r);
    }
    receiptsVerified++;
    return receipt.verify(heads).isValid();
  }

  private void checkConfirmed(String tag, SimApp.Applied place, Outcome.Confirmed c) {
    if (place == null) {
      violation(tag + " was confirmed in batch " + c.receipt().confirmation().batchNumber() + " but is not in the log");
      return;
    }
    Receipt receipt = c.receipt();
    if (receipt.confirmation().batchNumber() != place.batchNumber()
        || receipt.confirmation().indexInBatch() != place.indexInBatch()) {
      violation(tag + " was confirmed at " + receipt.confirmation().batchNumber() + "#" + receipt.confirmation().indexInBatch()
          + " but is logged at " + place.batchNumber() + "#" + place.indexInBatch());
    }
    if (!receiptVerifies(receipt)) {
      violation(tag + ": the receipt does not verify: " + receipt.verify(operator.publicKey()));
    }
    if (receipt instanceof Receipt.PerBatch pb
        && !pb.head().equals(committed.get((int) place.batchNumber()).entry().head())) {
      violation(tag + ": the receipt's head is not the committed head of batch " + place.batchNumber());
    }
    boolean applied = c.result() instanceof ResultEnvelope.Applied;
    if (applied == place.refused()) {
      violation(tag + " was answered " + (applied ? "applied" : "refused") + " but the log has it "
          + (place.refused() ? "refused" : "applied"));
    }
  }

  /** Every replica holds exactly what the auditor, which only ever applied the log, holds. */
  private void checkReplicasEqual() {
    for (int i = 0; i < REPLICAS; i++) {
      int replica = i;
      difference(auditor.objects().store(), replicas[i].objects().store())
          .ifPresent(d -> violation("replica " + replica + " differs from the auditor in " + d));
    }
  }

  /** How {@code other} differs from {@code reference}: in how many keys, and the first of them. */
  static Optional<String> difference(ReadView reference, ReadView other) {
    int differ = 0;
    Bytes first = null;
    // Both in key order, side by side: a key on one side only, or with two values, differs.
    try (Cursor left = reference.scan(KeyRange.ALL); Cursor right = other.scan(KeyRange.ALL)) {
      Entry a = nextOrNull(left);
      Entry b = nextOrNull(right);
      for (int n = 0; (a != null || b != null) && n < 10_000_000; n++) {
        int order = a == null ? 1 : b == null ? -1 : a.key().compareTo(b.key());
        if (order != 0 || !a.value().equals(b.value())) {
          differ++;
          first = first != null ? first : order <= 0 ? a.key() : b.key();
        }
        if (order <= 0) {
          a = nextOrNull(left);
        }
        if (order >= 0) {
          b = nextOrNull(right);
        }
      }
    }
    return differ == 0 ? Optional.empty() : Optional.of(differ + " keys, first " + first);
  }

  private static Entry nextOrNull(Cursor cursor) {
    return cursor.hasNext() ? cursor.next() : null;
  }

  /** Nothing to release: the stores belong to the caller's {@link SimStores}. */
  @Override
  public void close() {}

  static void deleteTree(Path root) {
    try {
      dev.bulwark.store.FileTrees.delete(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
