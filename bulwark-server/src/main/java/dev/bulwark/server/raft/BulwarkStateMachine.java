package dev.bulwark.server.raft;

import dev.bulwark.core.Bytes;
import dev.bulwark.server.engine.BatchEntry;
import dev.bulwark.server.engine.Replica;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.util.LifeCycle;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Bulwark's Raft state machine: the leader's sequencer has already executed each batch, so an
 * entry's data is the batch's result and every replica, the leader included, applies it with
 * {@link Replica#apply} without re-executing anything. The applied index is persisted with the
 * batch, so after a restart Ratis only replays what the store has not seen.
 */
final class BulwarkStateMachine extends BaseStateMachine {
  /** What the replica server does when leadership changes. */
  interface Leadership {
    void leaderReady();

    void notLeader();

    void leaderChanged(RaftPeerId newLeader);
  }

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BulwarkStateMachine.class);

  private final Replica replica;
  private final Leadership leadership;
  private final CheckpointSnapshots snapshots = new CheckpointSnapshots();
  private final int entryBytesMax;
  private final long snapshotEveryEntries;
  private final ExecutorService checkpointer;
  /** The checkpoint in progress, or done and not yet reported to Ratis; only the updater thread sets it. */
  private volatile CompletableFuture<Long> checkpointing;
  /** Held to start a checkpoint, and to pause or close: none starts once those have begun. */
  private final Object checkpointStart = new Object();
  private static final long CLOSE_WAIT_SECONDS = 60;
  /** After a failed checkpoint, the applied log index before which none is tried again. */
  private volatile long retryAfterIndex;

  BulwarkStateMachine(String replicaId, Replica replica, Leadership leadership, int entryBytesMax, long snapshotEveryEntries) {
    this.replica = replica;
    this.leadership = leadership;
    this.entryBytesMax = entryBytesMax;
    this.snapshotEveryEntries = snapshotEveryEntries;
    this.checkpointer = Executors.newSingleThreadExecutor(
        Thread.ofPlatform().name("bulwark-checkpoint-" + replicaId).daemon().factory());
  }

  /**
   * Ratis replays its log from the latest snapshot, not from what the store has applied, and
   * insists that the applied index only grows; so the applied index starts where Ratis starts
   * and climbs through the replay, while {@link Replica#apply} skips what the store already has.
   */
  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage storage) throws IOException {
    getLifeCycle().startAndTransition(() -> {
      super.initialize(server, groupId, storage);
      snapshots.init(storage);
      loadLatestSnapshot();
    });
  }

  /**
   * Ratis replays the log after the latest snapshot; if the store is behind that snapshot (it
   * was lost, or the snapshot was just installed from the leader) it is restored from it.
   */
  private void loadLatestSnapshot() throws IOException {
    var latest = snapshots.getLatestSnapshot();
    if (latest == null) {
      return;
    }
    Path dir = snapshots.latestDirectory().orElseThrow();
    if (replica.applied().logIndex() < CheckpointSnapshots.batchLogIndex(dir)) {
      replica.restoreFrom(dir.resolve(CheckpointSnapshots.STORE));
      log.info("restored the store from snapshot {} (batch {})", latest.getTermIndex(), replica.applied().batchNumber());
    }
    setLastAppliedTermIndex(latest.getTermIndex());
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return snapshots;
  }

  /**
   * Ratis calls this on its state machine updater thread, the thread that applies entries, and
   * waits for it; a checkpoint flushes the store's memory table, hundreds of milliseconds under
   * load, and every confirmation waited with it. So the checkpoint is taken on a thread of its
   * own while applies go on: this call starts one (answering "none taken"), and the first call
   * after it is published answers its index, from which Ratis purges the log. Ratis calls again
   * after every round of applies while its snapshot index lags, which is cheap here.
   */
  @Override
  public long takeSnapshot() {
    CompletableFuture<Long> running = checkpointing;
    if (running != null) {
      if (!running.isDone()) {
        return RaftLog.INVALID_LOG_INDEX;
      }
      checkpointing = null;
      long taken = running.exceptionally(e -> RaftLog.INVALID_LOG_INDEX).join();
      if (taken != RaftLog.INVALID_LOG_INDEX) {
        return taken;
      }
    }
    TermIndex last = getLastAppliedTermIndex();
    if (last == null || last.getIndex() < retryAfterIndex) {
      return RaftLog.INVALID_LOG_INDEX;
    }
    synchronized (checkpointStart) {
      if (getLifeCycleState() == LifeCycle.State.RUNNING && !checkpointer.isShutdown()) {
        checkpointing = CompletableFuture.supplyAsync(() -> checkpointWhileApplying(last), checkpointer);
      }
    }
    return RaftLog.INVALID_LOG_INDEX;
  }

  /**
   * Returns the published snapshot's log index, or INVALID_LOG_INDEX if there was nothing new.
   * The snapshot is labelled with the later of the copy's applied mark (the last batch it holds)
   * and {@code appliedBefore}, the last entry applied before the copy began: every entry up to
   * that was in the store by then, and the entries after the mark carried no batch (read
   * markers), so the copy is the state after it too. Without that a replica serving only reads
   * would take a new checkpoint after every round of applies, each labelled as the last.
   */
  private long checkpointWhileApplying(TermIndex appliedBefore) {
    Path scratch = null;
    try {
      scratch = snapshots.scratch();
      var mark = replica.checkpoint(scratch.resolve(CheckpointSnapshots.STORE));
      TermIndex at = mark.logIndex() >= appliedBefore.getIndex()
          ? TermIndex.valueOf(mark.logTerm(), mark.logIndex()) : appliedBefore;
      var latest = snapshots.getLatestSnapshot();
      if (latest != null && latest.getIndex() >= at.getIndex()) {
        snapshots.discard(scratch);
        return RaftLog.INVALID_LOG_INDEX;
      }
      snapshots.publish(scratch, at, mark.logIndex());
      snapshots.retain(2);
      log.info("snapshot {} taken: batch {}", at, mark.batchNumber());
      return at.getIndex();
    } catch (IOException | RuntimeException e) {
      // Not fatal: the log is kept until a later snapshot; a full disk or the like is retried
      // after another snapshot's worth of entries, not in a loop.
      retryAfterIndex = appliedBefore.getIndex() + snapshotEveryEntries;
      log.warn("a snapshot failed, next try after log index {}: {}", retryAfterIndex, e.toString());
      if (scratch != null) {
        try {
          snapshots.discard(scratch);
        } catch (IOException | RuntimeException cleanup) {
          log.warn("cannot remove the failed snapshot's scratch directory {}: {}", scratch, cleanup.toString());
        }
      }
      return RaftLog.INVALID_LOG_INDEX;
    }
  }

  /** Waits for a checkpoint in progress: the store must not be replaced or closed under it. */
  private void awaitCheckpoint() {
    CompletableFuture<Long> running = checkpointing;
    if (running != null) {
      running.exceptionally(e -> RaftLog.INVALID_LOG_INDEX).join();
    }
  }

  @Override
  public void close() throws IOException {
    synchronized (checkpointStart) {
      checkpointer.shutdown();
    }
    try {
      if (!checkpointer.awaitTermination(CLOSE_WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS)) {
        log.warn("a snapshot still running after {} s: closing without it", CLOSE_WAIT_SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    super.close();
  }

  /** Ratis asserts PAUSED before it reloads an installed snapshot; the base class does nothing here. */
  @Override
  public void pause() {
    if (getLifeCycleState() == LifeCycle.State.PAUSED) {
      return; // Ratis may pause again when it retries an installation
    }
    synchronized (checkpointStart) {
      getLifeCycle().transition(LifeCycle.State.PAUSING);
    }
    awaitCheckpoint();
    getLifeCycle().transition(LifeCycle.State.PAUSED);
  }

  @Override
  public void reinitialize() throws IOException {
    snapshots.rescan();
    loadLatestSnapshot();
    if (getLifeCycleState() == LifeCycle.State.PAUSED) {
      getLifeCycle().transition(LifeCycle.State.STARTING);
      getLifeCycle().transition(LifeCycle.State.RUNNING);
    }
  }

  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    ByteString data = request.getMessage().getContent();
    if (data.size() > entryBytesMax) {
      // Refused here: an oversized entry further down would make the leader step down.
      return TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request).build()
          .setException(new StateMachineException("batch entry of " + data.size() + " bytes exceeds " + entryBytesMax, false));
    }
    // On the leader the message still holds the entry it encodes: kept as the transaction's
    // context, the leader's own apply skips copying and decoding megabytes it just encoded.
    return TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request).setLogData(data)
        .setStateMachineContext(request.getMessage() instanceof RatisReplicator.EntryMessage m ? m : null).build();
  }

  /**
   * Refuses an entry whose sequencer leads in another term than the one it would be appended in.
   * Ratis calls this while it appends the entry, holding the server's lock, so the term cannot
   * change in between. A sequencer that is still closing after its replica lost leadership
   * (and perhaps won it again) would otherwise add a batch to a later term's log after a batch
   * that was cut, and no replica could apply it. The refusal reaches the sequencer as
   * "not committed".
   */
  @Override
  public TransactionContext preAppendTransaction(TransactionContext trx) throws IOException {
    if (trx.getStateMachineContext() instanceof RatisReplicator.EntryMessage m) {
      long current = getServer().join().getDivision(getGroupId()).getInfo().getCurrentTerm();
      if (m.term() != current) {
        // false: the leader of the current term is fine, only the entry is stale.
        throw new StateMachineException("batch " + m.entry().batchNumber() + " comes from the sequencer of term "
            + m.term() + ", not of the current term " + current, false);
      }
    }
    return trx;
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    ByteString data = entry.getStateMachineLogEntry().getLogData();
    if (data.isEmpty()) {
      // A read marker (ReplicaServer.readBarrier on the leader): it changes no state.
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
      return CompletableFuture.completedFuture(Message.EMPTY);
    }
    if (trx.getStateMachineContext() instanceof RatisReplicator.EntryMessage local && local.encoded().length() == data.size()) {
      replica.apply(local.entry(), local.encoded(), entry.getIndex(), entry.getTerm());
    } else {
      Bytes encoded = Bytes.adopt(data.toByteArray());
      replica.apply(BatchEntry.CODEC.decode(encoded), encoded, entry.getIndex(), entry.getTerm());
    }
    updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  /**
   * The last step of a read barrier ({@code ReplicaServer.readBarrier}): Ratis calls it once
   * this replica has applied up to the read index, and the reader then answers from the
   * replica's state itself, so there is nothing to return here.
   */
  @Override
  public CompletableFuture<Message> query(Message request) {
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  @Override
  public void notifyLeaderReady() {
    leadership.leaderReady();
  }

  @Override
  public void notifyNotLeader(Collection<TransactionContext> pendingEntries) {
    leadership.notLeader();
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
    leadership.leaderChanged(newLeaderId);
  }
}
