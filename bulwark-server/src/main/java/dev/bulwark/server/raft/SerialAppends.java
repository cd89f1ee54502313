package dev.bulwark.server.raft;

import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutionException;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotReplyProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotRequestProto;
import org.apache.ratis.proto.RaftProtos.ReadIndexReplyProto;
import org.apache.ratis.proto.RaftProtos.ReadIndexRequestProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteReplyProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteRequestProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionReplyProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.GroupInfoRequest;
import org.apache.ratis.protocol.GroupListReply;
import org.apache.ratis.protocol.GroupListRequest;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.LeaderElectionManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.SnapshotManagementRequest;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.DataStreamServerRpc;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerRpc;
import org.apache.ratis.server.ServerFactory;
import org.apache.ratis.util.LifeCycle;

/**
 * A Raft server as Ratis' gRPC services see it, except that the appends it is sent reach Ratis
 * one at a time: the next only once the previous one's entries are written (or it failed).
 * Heartbeats, which carry no entries, go straight through, and so does everything else.
 *
 * <p>Why: a Ratis 3.2.0 follower that gets an append while another append that starts a run of
 * entries at the same index is still being written drops the new one whole, yet answers SUCCESS
 * up to the dropped one's last entry ({@code RaftServerImpl.appendLog}: "index already exists,
 * return the last future"; the check ignores terms). The leader's match index for it then passes
 * the end of its log and counts towards the commit: with the third replica out, a leader could
 * confirm entries that only it holds, and a new leader elected after a kill can do so from its
 * very first append (docs/chaos.md, "A follower its leader stopped bringing forward"). It is
 * also what left restarted followers behind until leadership moved. Ratis already writes an
 * append's entries only after the previous append's are written (RATIS-2235), so handing them
 * over one at a time costs no throughput; but no append is ever pending when the next arrives,
 * so the de-duplication never drops one, and every SUCCESS covers entries that are written.
 *
 * <p>All groups share one order (a replica serves one); an append that never ends holds back the
 * ones after it, as Ratis' own chain of log writes already does.
 */
final class SerialAppends implements RaftServer {
  private final RaftServer server;
  private final Executor handOff;
  /** The last append handed over or waiting; the next one waits for it. Guarded by this. */
  private CompletableFuture<?> last = CompletableFuture.completedFuture(null);

  /**
   * @param server the Raft server Ratis built
   * @param handOff runs an append that had to wait, off the thread that finished the one before
   *     (a Ratis thread, which must not block on the server's monitor or a write)
   */
  SerialAppends(RaftServer server, Executor handOff) {
    this.server = Objects.requireNonNull(server);
    this.handOff = Objects.requireNonNull(handOff);
  }

  @Override
  public CompletableFuture<AppendEntriesReplyProto> appendEntriesAsync(AppendEntriesRequestProto request)
      throws IOException {
    if (request.getEntriesCount() == 0) {
      return server.appendEntriesAsync(request);
    }
    CompletableFuture<AppendEntriesReplyProto> reply = new CompletableFuture<>();
    CompletableFuture<?> previous;
    synchronized (this) {
      previous = last;
      last = reply;
    }
    if (previous.isDone()) {
      handOver(request, reply);
    } else {
      previous.whenCompleteAsync((ignored, failure) -> handOver(request, reply), handOff);
    }
    return reply;
  }

  /** Gives {@code request} to Ratis; {@code reply} completes as its answer does, or with its failure. */
  private void handOver(AppendEntriesRequestProto request, CompletableFuture<AppendEntriesReplyProto> reply) {
    try {
      server.appendEntriesAsync(request).whenComplete((answer, failure) -> {
        if (failure != null) {
          reply.completeExceptionally(failure);
        } else {
          reply.complete(answer);
        }
      });
    } catch (IOException | RuntimeException e) {
      reply.completeExceptionally(e);
    }
  }

  @Override
  public AppendEntriesReplyProto appendEntries(AppendEntriesRequestProto request) throws IOException {
    try {
      return appendEntriesAsync(request).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted waiting for an append");
    } catch (ExecutionException | CompletionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    }
  }

  // Everything else goes to the server as it is.

  @Override
  public RaftPeerId getId() {
    return server.getId();
  }

  @Override
  public RaftPeer getPeer() {
    return server.getPeer();
  }

  @Override
  public Iterable<RaftGroupId> getGroupIds() {
    return server.getGroupIds();
  }

  @Override
  public Iterable<RaftGroup> getGroups() throws IOException {
    return server.getGroups();
  }

  @Override
  public Division getDivision(RaftGroupId groupId) throws IOException {
    return server.getDivision(groupId);
  }

  @Override
  public RaftProperties getProperties() {
    return server.getProperties();
  }

  @Override
  public RaftServerRpc getServerRpc() {
    return server.getServerRpc();
  }

  @Override
  public DataStreamServerRpc getDataStreamServerRpc() {
    return server.getDataStreamServerRpc();
  }

  @Override
  public RpcType getRpcType() {
    return server.getRpcType();
  }

  @Override
  public ServerFactory getFactory() {
    return server.getFactory();
  }

  @Override
  public void start() throws IOException {
    server.start();
  }

  @Override
  public LifeCycle.State getLifeCycleState() {
    return server.getLifeCycleState();
  }

  @Override
  public void close() throws IOException {
    server.close();
  }

  @Override
  public RequestVoteReplyProto requestVote(RequestVoteRequestProto request) throws IOException {
    return server.requestVote(request);
  }

  @Override
  public InstallSnapshotReplyProto installSnapshot(InstallSnapshotRequestProto request) throws IOException {
    return server.installSnapshot(request);
  }

  @Override
  public StartLeaderElectionReplyProto startLeaderElection(StartLeaderElectionRequestProto request) throws IOException {
    return server.startLeaderElection(request);
  }

  @Override
  public CompletableFuture<ReadIndexReplyProto> readIndexAsync(ReadIndexRequestProto request) throws IOException {
    return server.readIndexAsync(request);
  }

  @Override
  public RaftClientReply submitClientRequest(RaftClientRequest request) throws IOException {
    return server.submitClientRequest(request);
  }

  @Override
  public CompletableFuture<RaftClientReply> submitClientRequestAsync(RaftClientRequest request) throws IOException {
    return server.submitClientRequestAsync(request);
  }

  @Override
  public GroupListReply getGroupList(GroupListRequest request) throws IOException {
    return server.getGroupList(request);
  }

  @Override
  public GroupInfoReply getGroupInfo(GroupInfoRequest request) throws IOException {
    return server.getGroupInfo(request);
  }

  @Override
  public RaftClientReply groupManagement(GroupManagementRequest request) throws IOException {
    return server.groupManagement(request);
  }

  @Override
  public RaftClientReply snapshotManagement(SnapshotManagementRequest request) throws IOException {
    return server.snapshotManagement(request);
  }

  @Override
  public RaftClientReply leaderElectionManagement(LeaderElectionManagementRequest request) throws IOException {
    return server.leaderElectionManagement(request);
  }

  @Override
  public RaftClientReply setConfiguration(SetConfigurationRequest request) throws IOException {
    return server.setConfiguration(request);
  }

  @Override
  public RaftClientReply transferLeadership(TransferLeadershipRequest request) throws IOException {
    return server.transferLeadership(request);
  }

  @Override
  public CompletableFuture<GroupListReply> getGroupListAsync(GroupListRequest request) {
    return server.getGroupListAsync(request);
  }

  @Override
  public CompletableFuture<GroupInfoReply> getGroupInfoAsync(GroupInfoRequest request) {
    return server.getGroupInfoAsync(request);
  }

  @Override
  public CompletableFuture<RaftClientReply> groupManagementAsync(GroupManagementRequest request) {
    return server.groupManagementAsync(request);
  }

  @Override
  public CompletableFuture<RaftClientReply> snapshotManagementAsync(SnapshotManagementRequest request) {
    return server.snapshotManagementAsync(request);
  }

  @Override
  public CompletableFuture<RaftClientReply> leaderElectionManagementAsync(LeaderElectionManagementRequest request) {
    return server.leaderElectionManagementAsync(request);
  }

  @Override
  public CompletableFuture<RaftClientReply> setConfigurationAsync(SetConfigurationRequest request) throws IOException {
    return server.setConfigurationAsync(request);
  }

  @Override
  public CompletableFuture<RaftClientReply> transferLeadershipAsync(TransferLeadershipRequest request) throws IOException {
    return server.transferLeadershipAsync(request);
  }

  @Override
  public String toString() {
    return server.toString();
  }
}
