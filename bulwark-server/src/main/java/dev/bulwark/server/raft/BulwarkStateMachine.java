package dev.bulwark.server.raft;

import dev.bulwark.core.Bytes;
import dev.bulwark.server.engine.BatchEntry;
import dev.bulwark.server.engine.Replica;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

  BulwarkStateMachine(Replica replica, Leadership leadership, int entryBytesMax) {
    this.replica = replica;
    this.leadership = leadership;
    this.entryBytesMax = entryBytesMax;
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

  @Override
  public long takeSnapshot() throws IOException {
    TermIndex last = getLastAppliedTermIndex();
    if (last == null || last.getIndex() < 0) {
      return RaftLog.INVALID_LOG_INDEX;
    }
    if (Files.exists(snapshots.directoryFor(last))) {
      return last.getIndex();
    }
    Path scratch = snapshots.scratch();
    var mark = replica.checkpoint(scratch.resolve(CheckpointSnapshots.STORE));
    snapshots.publish(scratch, last, mark.logIndex());
    snapshots.retain(2);
    log.info("snapshot {} taken: batch {}", last, mark.batchNumber());
    return last.getIndex();
  }

  /** Ratis asserts PAUSED before it reloads an installed snapshot; the base class does nothing here. */
  @Override
  public void pause() {
    if (getLifeCycleState() == LifeCycle.State.PAUSED) {
      return; // Ratis may pause again when it retries an installation
    }
    getLifeCycle().transition(LifeCycle.State.PAUSING);
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
