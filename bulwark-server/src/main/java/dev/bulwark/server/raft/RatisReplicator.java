package dev.bulwark.server.raft;

import dev.bulwark.core.Bytes;
import dev.bulwark.server.engine.BatchEntry;
import dev.bulwark.server.engine.NotCommittedException;
import dev.bulwark.server.engine.OutcomeUnknownException;
import dev.bulwark.server.engine.Replicator;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * Hands batches to the local Ratis server in order, from the sequencer's one thread: Ratis
 * would otherwise append concurrently submitted entries in an arbitrary order. The future
 * completes when the entry is committed and applied here (the reply comes after the local
 * apply). A refusal before the entry reached the log is "not committed"; a failure after it
 * (leadership moved) is "outcome unknown", since the next leader may still commit it.
 *
 * <p>Every entry carries the Raft term its sequencer started leading in, and the state machine
 * refuses to append it in any other term ({@link BulwarkStateMachine#preAppendTransaction}): a
 * sequencer that is closing after its replica lost leadership must not add a batch to the log
 * of a later term, where the batch before it may have been cut and the one it adds would not
 * follow the last applied batch on any replica.
 */
final class RatisReplicator implements Replicator {
  private final RaftServer server;
  private final RaftGroupId groupId;
  private final ClientId clientId = ClientId.randomId();
  private final int entryBytesMax;
  private final int entryFormat;
  private final long term;
  private long nextCallId = 1;

  /** A replicator for a sequencer that leads in Raft term {@code term}, writing entries as {@code raft} says. */
  RatisReplicator(RaftServer server, RaftGroupId groupId, RaftSettings raft, long term) {
    this.server = server;
    this.groupId = groupId;
    this.entryBytesMax = raft.entryBytesMax();
    this.entryFormat = raft.entryFormat();
    this.term = term;
  }

  @Override
  public CompletableFuture<Void> replicate(BatchEntry entry) {
    Bytes bytes = entry.encode(entryFormat);
    if (bytes.length() > entryBytesMax) {
      return CompletableFuture.failedFuture(new NotCommittedException("batch " + entry.batchNumber() + " encodes to "
          + bytes.length() + " bytes, more than raft.entryBytesMax " + entryBytesMax));
    }
    return submit(entry, bytes);
  }

  /**
   * A Raft message that also carries the entry it encodes, so the leader need not decode it
   * again, and the term its sequencer leads in.
   */
  record EntryMessage(BatchEntry entry, Bytes encoded, long term) implements Message {
    @Override public org.apache.ratis.thirdparty.com.google.protobuf.ByteString getContent() {
      return UnsafeByteOperations.unsafeWrap(encoded.unsafeArray());
    }

    @Override public String toString() {
      return "batch " + entry.batchNumber() + " (" + encoded.length() + " bytes)";
    }
  }

  private CompletableFuture<Void> submit(BatchEntry entry, Bytes bytes) {
    RaftClientRequest request = RaftClientRequest.newBuilder()
        .setClientId(clientId)
        .setServerId(server.getId())
        .setGroupId(groupId)
        .setCallId(nextCallId++)
        .setMessage(new EntryMessage(entry, bytes, term))
        .setType(RaftClientRequest.writeRequestType())
        .build();
    CompletableFuture<RaftClientReply> reply;
    try {
      reply = server.submitClientRequestAsync(request);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(new NotCommittedException("the Raft server refused batch "
          + entry.batchNumber(), e));
    }
    return reply.handle((r, failure) -> {
      if (failure != null) {
        throw new CompletionException(new OutcomeUnknownException("replication of batch " + entry.batchNumber()
            + " failed after submission: " + failure, failure));
      }
      if (!r.isSuccess()) {
        if (r.getNotLeaderException() != null || r.getLeaderNotReadyException() != null) {
          throw new CompletionException(new OutcomeUnknownException("leadership moved while batch "
              + entry.batchNumber() + " replicated", r.getException()));
        }
        if (r.getStateMachineException() != null) {
          throw new CompletionException(new NotCommittedException("batch " + entry.batchNumber() + " refused: "
              + r.getStateMachineException().getMessage()));
        }
        throw new CompletionException(new OutcomeUnknownException("batch " + entry.batchNumber() + " failed: "
            + r.getException(), r.getException()));
      }
      return null;
    });
  }
}
