package dev.bulwark.server.raft;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.thirdparty.io.grpc.Attributes;
import org.apache.ratis.thirdparty.io.grpc.ServerTransportFilter;

/**
 * Starts an election as soon as the leader's process is gone, instead of after the election
 * timeout. When a peer's connection to this replica closes, a follower asks whether its leader's
 * Raft port still takes connections; if the port refuses them, the leader no longer runs, and
 * the follower starts an election at once.
 *
 * <p>Why: a Ratis 3.2.0 follower notices a silent leader only when a sleep of one random election
 * timeout ends with no word from the leader since that sleep began ({@code FollowerState}), so a
 * kill is noticed from one to two timeouts later: about 520 ms median with 300 to 600 ms
 * timeouts, half of a leader kill's failover in the chaos runs (docs/chaos.md). A process that
 * exits (killed, crashed, stopped) closes its connections and its listening port together, and
 * a refused connection is a sure sign; a paused or cut-off leader still takes connections or
 * drops them unanswered, so those, and a leader that only reset a stream, are left to Ratis'
 * timeout as before.
 *
 * <p>The election is Ratis' own, started the way a leadership transfer starts one
 * ({@code StartLeaderElection}, named as from the old leader, with this follower's own last
 * entry): it skips the pre-vote, which the other followers would refuse while the old leader's
 * lease lasts, and every vote still requires a log at least as up to date as the voter's, so
 * safety stays Raft's; at worst the election fails and Ratis' timeout elects as it would have.
 * Only the first follower by id (the gone leader left out) does this: two forcing elections at
 * once would split the vote (they did in a chaos run, when one noticed 300 ms after the other),
 * and if the first one does not, Ratis' timeout elects as before. A forced
 * election skips the pre-vote in every round, so a candidate cut off from the rest would raise
 * the term round after round and later depose a healthy leader: a follower goes only when enough
 * of the other voters take a connection to make a majority with it.
 */
final class LeaderExitWatch {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LeaderExitWatch.class);

  /** When the leader's port is asked, in ms after the connection closed: a dying process closes its port within them. */
  static final long[] PROBE_AFTER_MS = {0, 10, 30, 70, 150};

  /** How long one connection attempt to the leader's port may take; no answer counts as alive (a partition, a pause). */
  static final int PROBE_TIMEOUT_MS = 100;

  /**
   * What this follower knows while it follows: who leads, in which term, how far its own log
   * goes, how long since the leader (or a candidate it voted for) was last heard, how many
   * operations Ratis has under way that keep it from standing (a snapshot install), and every
   * voter's Raft address by id, the leader's and its own included.
   */
  record Following(String self, String leader, long term, long lastEntryTerm, long lastEntryIndex, long sinceLeaderMs,
      int outstandingOps, Map<String, String> voters) {
    Following {
      voters = Map.copyOf(voters);
      if (!voters.containsKey(leader) || !voters.containsKey(self)) {
        throw new IllegalArgumentException("the leader " + leader + " and this replica " + self + " must be voters: " + voters);
      }
    }

    String leaderAddress() {
      return voters.get(leader);
    }
  }

  /** The Raft server as the watch sees it. */
  interface Raft {
    /** Empty unless this replica follows a known leader. */
    Optional<Following> following() throws IOException;

    /** Starts an election now, skipping the pre-vote; whether Ratis took it. */
    boolean startElection(Following seen) throws IOException;
  }

  /** What a connection attempt to the leader's Raft port found. */
  enum Answer { ACCEPTED, REFUSED, NO_ANSWER }

  /** Asks a {@code host:port} whether anything listens there. */
  @FunctionalInterface
  interface Probe {
    Answer ask(String address);
  }

  /** The watch's sense of time: injected, so that the tests run without waiting. */
  interface Ticker {
    long nanoTime();

    void sleepNanos(long nanos) throws InterruptedException;
  }

  /** How one check after a closed connection ended. */
  enum Verdict {
    /** Not a follower of a known leader (a leader itself, a candidate, or starting up). */
    NOT_FOLLOWING,
    /** The leader sent something after the connection closed: it runs. */
    LEADER_SPOKE,
    /** The leader's port took a connection or did not answer every time it was asked. */
    LEADER_ANSWERS,
    /** Another follower comes first by id: it starts the election, or Ratis' timeout does. */
    NOT_FIRST,
    /** Ratis has an operation under way (a snapshot install) that keeps this follower from standing. */
    BUSY,
    /** Too few of the other voters take connections to make a majority with this one: Ratis' timeout decides. */
    NO_MAJORITY,
    /** This follower's last entry is from an older term, so Ratis would refuse to start: its timeout goes on. */
    LOG_BEHIND,
    /** An election was asked for and Ratis started it. */
    ELECTION_STARTED,
    /** An election was asked for and Ratis refused (a race with a new leader). */
    ELECTION_REFUSED
  }

  private final Raft raft;
  private final Probe probe;
  private final Ticker ticker;
  private final Executor checks;
  private final AtomicBoolean checking = new AtomicBoolean();
  /** When the last connection closed (ticker time): a check that ends finds whether another closed meanwhile. */
  private final AtomicLong lastClosedAt = new AtomicLong();
  private final AtomicLong electionsStarted = new AtomicLong();

  /** @param checks runs the checks (they sleep and connect), one at a time */
  LeaderExitWatch(Raft raft, Probe probe, Ticker ticker, Executor checks) {
    this.raft = Objects.requireNonNull(raft);
    this.probe = Objects.requireNonNull(probe);
    this.ticker = Objects.requireNonNull(ticker);
    this.checks = Objects.requireNonNull(checks);
  }

  /** A gRPC transport filter that tells this watch whenever a connection to the Raft port ends. */
  ServerTransportFilter filter() {
    return new ServerTransportFilter() {
      @Override
      public void transportTerminated(Attributes transportAttrs) {
        connectionClosed();
      }
    };
  }

  /**
   * A peer's connection closed: checks the leader in the background. If a check runs already,
   * that one checks again once it ends, from this closing.
   */
  void connectionClosed() {
    lastClosedAt.set(ticker.nanoTime());
    if (!checking.compareAndSet(false, true)) {
      return;
    }
    try {
      checks.execute(this::checkWhileClosing);
    } catch (RuntimeException rejected) {
      checking.set(false); // shutting down
    }
  }

  private void checkWhileClosing() {
    while (true) {
      long closedAt = lastClosedAt.get();
      try {
        check(closedAt);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        checking.set(false);
        return;
      } catch (IOException | RuntimeException e) {
        log.warn("could not check whether the leader still runs after a peer's connection closed: {}", e.toString());
      }
      checking.set(false);
      // Another connection closed during the check: look again, unless a new check took it.
      if (lastClosedAt.get() == closedAt || !checking.compareAndSet(false, true)) {
        return;
      }
    }
  }

  /** How many elections this watch started. */
  long electionsStarted() {
    return electionsStarted.get();
  }

  /** One check after a connection closed at {@code closedAt} (ticker time). */
  Verdict check(long closedAt) throws IOException, InterruptedException {
    for (long afterMs : PROBE_AFTER_MS) {
      long due = closedAt + afterMs * 1_000_000;
      long wait = due - ticker.nanoTime();
      if (wait > 0) {
        ticker.sleepNanos(wait);
      }
      Optional<Following> seen = raft.following();
      if (seen.isEmpty()) {
        return Verdict.NOT_FOLLOWING;
      }
      long sinceClosedMs = (ticker.nanoTime() - closedAt) / 1_000_000;
      if (seen.get().sinceLeaderMs() < sinceClosedMs) {
        return Verdict.LEADER_SPOKE;
      }
      if (probe.ask(seen.get().leaderAddress()) == Answer.REFUSED) {
        return elect(seen.get(), closedAt);
      }
    }
    return Verdict.LEADER_ANSWERS;
  }

  private Verdict elect(Following seen, long closedAt) throws IOException {
    if (rank(seen) > 0) {
      return Verdict.NOT_FIRST;
    }
    if (seen.outstandingOps() > 0) {
      return Verdict.BUSY;
    }
    if (seen.lastEntryTerm() != seen.term()) {
      log.info("replica {}: leader {} is gone (its Raft port refuses connections), but this replica's last entry is from "
          + "term {}, before the current {}: Ratis' election timeout decides", seen.self(), seen.leader(), seen.lastEntryTerm(),
          seen.term());
      return Verdict.LOG_BEHIND;
    }
    // A forced election skips the pre-vote in every round it runs, so a candidate that cannot
    // reach a majority would raise the term round after round; it goes only if enough voters answer.
    int answering = 1;
    for (var voter : seen.voters().entrySet()) {
      if (!voter.getKey().equals(seen.self()) && !voter.getKey().equals(seen.leader())
          && probe.ask(voter.getValue()) == Answer.ACCEPTED) {
        answering++;
      }
    }
    if (2 * answering <= seen.voters().size()) {
      log.info("replica {}: leader {} is gone (its Raft port refuses connections), but only {} of {} voters take "
          + "connections: Ratis' election timeout decides", seen.self(), seen.leader(), answering, seen.voters().size());
      return Verdict.NO_MAJORITY;
    }
    boolean started = raft.startElection(seen);
    log.info("replica {}: leader {} is gone (its Raft port refuses connections, {} ms after a peer's connection closed): {}",
        seen.self(), seen.leader(), (ticker.nanoTime() - closedAt) / 1_000_000,
        started ? "started an election at once, with its last entry " + seen.lastEntryIndex() + " of term " + seen.term()
            : "Ratis refused to start an election now (a leader may have come meanwhile)");
    if (started) {
      electionsStarted.incrementAndGet();
      return Verdict.ELECTION_STARTED;
    }
    return Verdict.ELECTION_REFUSED;
  }

  /** This follower's place among the voters other than the gone leader, by id: only the first goes. */
  static int rank(Following seen) {
    return (int) seen.voters().keySet().stream().filter(v -> !v.equals(seen.leader())).sorted()
        .takeWhile(v -> !v.equals(seen.self())).count();
  }

  /**
   * Asks with a TCP connection to each address the host resolves to: refused by every one means
   * nothing listens; any connection taken means something does; otherwise (a timeout, an
   * unreachable host, a name that does not resolve) there is no answer.
   */
  static Answer connect(String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0) {
      return Answer.NO_ANSWER;
    }
    String host = address.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException e) {
      return Answer.NO_ANSWER;
    }
    java.net.InetAddress[] resolved;
    try {
      resolved = java.net.InetAddress.getAllByName(host);
    } catch (IOException e) {
      return Answer.NO_ANSWER;
    }
    boolean allRefused = resolved.length > 0;
    for (java.net.InetAddress ip : resolved) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(ip, port), PROBE_TIMEOUT_MS);
        return Answer.ACCEPTED;
      } catch (ConnectException refused) {
        // nothing listens at this one
      } catch (IOException | IllegalArgumentException e) {
        allRefused = false;
      }
    }
    return allRefused ? Answer.REFUSED : Answer.NO_ANSWER;
  }

  /**
   * A replica's Ratis server as the watch sees it, once {@link #attach attached}: Ratis builds
   * its gRPC services (and so this watch's filter) before the server exists.
   */
  static final class RatisView implements Raft {
    private final org.apache.ratis.protocol.RaftGroupId group;
    private volatile org.apache.ratis.server.RaftServer server;
    private final AtomicLong calls = new AtomicLong();

    RatisView(org.apache.ratis.protocol.RaftGroupId group) {
      this.group = Objects.requireNonNull(group);
    }

    void attach(org.apache.ratis.server.RaftServer server) {
      this.server = Objects.requireNonNull(server);
    }

    @Override
    public Optional<Following> following() throws IOException {
      org.apache.ratis.server.RaftServer s = server;
      if (s == null || s.getLifeCycleState() != org.apache.ratis.util.LifeCycle.State.RUNNING) {
        return Optional.empty(); // starting, or closing: its own connections close then
      }
      org.apache.ratis.server.RaftServer.Division division = s.getDivision(group);
      org.apache.ratis.server.DivisionInfo info = division.getInfo();
      org.apache.ratis.protocol.RaftPeerId leader = info.getLeaderId();
      if (!info.isAlive() || !info.isFollower() || leader == null) {
        return Optional.empty();
      }
      org.apache.ratis.server.RaftConfiguration conf = division.getRaftConf();
      var lastEntry = division.getRaftLog().getLastEntryTermIndex();
      var role = info.getRoleInfoProto();
      if (lastEntry == null || !role.hasFollowerInfo()) {
        return Optional.empty();
      }
      Map<String, String> voters = new java.util.HashMap<>();
      for (org.apache.ratis.protocol.RaftPeer peer : conf.getCurrentPeers()) {
        if (peer.getAddress() != null) {
          voters.put(peer.getId().toString(), peer.getAddress());
        }
      }
      String self = division.getId().toString();
      if (!voters.containsKey(leader.toString()) || !voters.containsKey(self)) {
        return Optional.empty(); // a configuration change under way, or this replica is no voter
      }
      return Optional.of(new Following(self, leader.toString(), info.getCurrentTerm(), lastEntry.getTerm(),
          lastEntry.getIndex(), role.getFollowerInfo().getLeaderInfo().getLastRpcElapsedTimeMs(),
          role.getFollowerInfo().getOutstandingOp(), voters));
    }

    @Override
    public boolean startElection(Following seen) throws IOException {
      org.apache.ratis.server.RaftServer s = Objects.requireNonNull(server);
      var request = org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto.newBuilder()
          .setServerRequest(org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto.newBuilder()
              .setRequestorId(org.apache.ratis.protocol.RaftPeerId.valueOf(seen.leader()).toByteString())
              .setReplyId(s.getId().toByteString())
              .setRaftGroupId(org.apache.ratis.proto.RaftProtos.RaftGroupIdProto.newBuilder().setId(group.toByteString()))
              .setCallId(calls.incrementAndGet()))
          .setLeaderLastEntry(org.apache.ratis.proto.RaftProtos.TermIndexProto.newBuilder()
              .setTerm(seen.lastEntryTerm()).setIndex(seen.lastEntryIndex()))
          .build();
      return s.startLeaderElection(request).getServerReply().getSuccess();
    }
  }

  /** The system's clock and sleep. */
  static final Ticker SYSTEM = new Ticker() {
    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public void sleepNanos(long nanos) throws InterruptedException {
      java.util.concurrent.TimeUnit.NANOSECONDS.sleep(nanos);
    }
  };
}
