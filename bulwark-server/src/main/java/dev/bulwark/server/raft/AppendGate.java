package dev.bulwark.server.raft;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotReplyProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
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
 * A Raft server as Ratis' gRPC services see it, except that an append which starts a run of
 * entries where an append handed to Ratis earlier starts one, while that one is still being
 * written, waits until it is written; appends after a waiting one wait behind it, in order.
 * Every other append, heartbeats and all other calls go straight through, as before.
 *
 * <p>Why: a Ratis 3.2.0 follower that gets an append while another append that starts a run of
 * entries at the same index is still being written drops the new one whole, yet answers SUCCESS
 * up to the dropped one's last entry ({@code RaftServerImpl.appendLog}: "index already exists,
 * return the last future"; the check ignores terms). The leader's match index for it then passes
 * the end of its log and counts towards the commit: with the third replica out, a leader could
 * confirm entries that only it holds, and a new leader elected after a kill can do so from its
 * very first append (docs/chaos.md, "A follower its leader stopped bringing forward"). It is
 * also what left restarted followers behind until leadership moved. Such a repeat follows a
 * leader's reset (a resend from an earlier index) or a change of leader. Held until the earlier
 * append is written, it reaches Ratis when nothing pending shares its start, and Ratis writes
 * what it lacks and skips what it has, as for any append: a SUCCESS covers written entries only.
 *
 * <p>Only repeats wait, not every append: Ratis takes the next append while the last is being
 * written (it chains their writes itself), and a heartbeat's previous entry is usually in an
 * append still being written, which Ratis finds only because it took that append already; had
 * every append waited for the one before, heartbeats would be refused and the leader would reset
 * its stream again and again under load.
 *
 * <p>All groups share one queue (a replica serves one); an append that is never written holds
 * back the repeats after it, as Ratis' own chain of writes already holds back their writes.
 */
final class AppendGate implements RaftServer {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AppendGate.class);
  private final RaftServer server;
  private final Executor handOff;
  /** Run starts of the appends handed to Ratis and not yet answered. Guarded by this. */
  private final Set<Long> writing = new HashSet<>();
  /** Appends waiting, in the order they came. Guarded by this. */
  private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
  /** Whether a thread is handing waiting appends over; only one does, so they reach Ratis in order. Guarded by this. */
  private boolean handingOver;
  /** How many appends came while an append with one of their run starts was being written. */
  private final AtomicLong repeatsHeld = new AtomicLong();

  private record Waiting(AppendEntriesRequestProto request, List<Long> starts,
      CompletableFuture<AppendEntriesReplyProto> reply) {}

  /**
   * @param server the Raft server Ratis built
   * @param handOff hands over appends that waited, off the thread that finished the one they
   *     waited for (a Ratis thread, which must not block on the server's monitor or a write)
   */
  AppendGate(RaftServer server, Executor handOff) {
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
    Waiting append = new Waiting(request, runStarts(request), reply);
    synchronized (this) {
      if (repeats(append.starts())) {
        repeatsHeld.incrementAndGet();
        log.info("held an append of entries {} to {}: one that starts a run of entries at the same index ({}) is still "
            + "being written, and Ratis 3.2.0 would drop this one yet answer SUCCESS", request.getEntries(0).getIndex(),
            request.getEntries(request.getEntriesCount() - 1).getIndex(), append.starts());
      }
      waiting.add(append);
    }
    handOverWhatCan();
    return reply;
  }

  /** How many appends came while an append with one of their run starts was being written, and so waited. */
  long repeatsHeld() {
    return repeatsHeld.get();
  }

  /**
   * Hands waiting appends to Ratis, in order, while the first one repeats no run start being
   * written. One thread at a time; another that finds it busy leaves its append to it.
   */
  private void handOverWhatCan() {
    while (true) {
      Waiting next;
      synchronized (this) {
        if (handingOver) {
          return;
        }
        next = waiting.peek();
        if (next == null || repeats(next.starts())) {
          return;
        }
        waiting.poll();
        writing.addAll(next.starts());
        handingOver = true;
      }
      try {
        handOver(next);
      } finally {
        synchronized (this) {
          handingOver = false;
        }
      }
    }
  }

  /** Gives {@code append} to Ratis; its reply completes as Ratis' answer does, or with its failure. */
  private void handOver(Waiting append) {
    CompletableFuture<AppendEntriesReplyProto> answer;
    try {
      answer = server.appendEntriesAsync(append.request());
    } catch (IOException | RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    answer.whenComplete((result, failure) -> {
      boolean more;
      synchronized (this) {
        append.starts().forEach(writing::remove);
        more = !waiting.isEmpty();
      }
      if (failure != null) {
        append.reply().completeExceptionally(failure);
      } else {
        append.reply().complete(result);
      }
      if (more) {
        handOff.execute(this::handOverWhatCan);
      }
    });
  }

  private boolean repeats(List<Long> starts) {
    for (Long start : starts) {
      if (writing.contains(start)) {
        return true;
      }
    }
    return false;
  }

  /** Where the append's runs of entries start: its first entry, and each change of term (as Ratis counts them). */
  static List<Long> runStarts(AppendEntriesRequestProto request) {
    List<Long> starts = new ArrayList<>(1);
    long term = -1;
    for (int i = 0; i < request.getEntriesCount(); i++) {
      LogEntryProto entry = request.getEntries(i);
      if (i == 0 || entry.getTerm() != term) {
        starts.add(entry.getIndex());
        term = entry.getTerm();
      }
    }
    return starts;
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
