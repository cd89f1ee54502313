package dev.bulwark.server.raft;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.grpc.server.GrpcServices;
import org.apache.ratis.grpc.server.GrpcLogAppender;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppender;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.raftlog.RaftLogIOException;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ratis' gRPC transport with four changes to a leader's log appenders and one to a follower:
 * an appender counts as stopped at most {@link #STOP_LIMIT} after it was asked to stop, whether
 * or not its thread has left yet; one whose append fails Ratis' own check only because the
 * follower's next index moved while it was built builds it again instead of failing (see
 * {@link Appender}); one whose follower proved its match index false goes back to the
 * follower's own next index ({@link FalseMatchGuard}); one whose follower needs the entries
 * from exactly the start of the log, whose previous entry is purged, sends it the snapshot
 * instead of failing ({@link #previousLostAtLogStart}); and a follower holds an append that
 * repeats one it is still writing, so that it never acknowledges entries it dropped
 * ({@link AppendGate}).
 *
 * <p>Why: in Ratis 3.2.0 a leader steps down on its event thread while holding the Raft server's
 * monitor, and waits there without a limit for every appender thread to end. An appender that
 * is sending a snapshot enters that monitor once per chunk (and once per notification), so an
 * appender about to do so when the step-down begins never ends, and the replica stops answering
 * anything (RATIS-2345: chaos runs lost a replica for 30 s to it, and a leader kill in that time
 * took 4.7 to 5.7 s to fail over). Ratis 3.2.1 bounds that wait in the step-down itself, but
 * every later release brings a worse bug (docs/chaos.md, "Known problem"); this bounds it from
 * the appender's side instead, through the public factory Ratis builds appenders with. A stop
 * that gives up is harmless: the appender has already been told to stop and interrupted, and
 * once the monitor is free its thread finds itself no longer running and ends.
 *
 * <p>Ratis finds this class by name ({@code raft.rpc.type}), so it has a public no-argument
 * constructor.
 */
public final class BoundedStopGrpc implements RpcType {
  private static final Logger log = LoggerFactory.getLogger(BoundedStopGrpc.class);

  /**
   * How long a step-down waits for an appender's thread. A stop normally takes milliseconds: the
   * thread is interrupted out of its waits.
   */
  static final Duration STOP_LIMIT = Duration.ofSeconds(1);

  public BoundedStopGrpc() {}

  @Override
  public String name() {
    // Ratis stores the type as this name and finds the class again by it.
    return BoundedStopGrpc.class.getName();
  }

  @Override
  public GrpcFactory newFactory(Parameters parameters) {
    SnapshotBoundFollowers snapshotBound = SnapshotBoundFollowers.in(parameters);
    return new Factory(parameters,
        (server, leader, follower) -> new Appender(server, leader, follower, STOP_LIMIT, snapshotBound));
  }

  /** Builds a leader's appender for one follower. */
  @FunctionalInterface
  interface AppenderMaker {
    LogAppender make(RaftServer.Division server, LeaderState leader, FollowerInfo follower);
  }

  /** Ratis' gRPC factory, whose appenders come from an {@link AppenderMaker}. */
  static final class Factory extends GrpcFactory {
    private final AppenderMaker appenders;

    Factory(Parameters parameters, AppenderMaker appenders) {
      super(parameters);
      this.appenders = Objects.requireNonNull(appenders);
    }

    @Override
    public LogAppender newLogAppender(RaftServer.Division server, LeaderState leader, FollowerInfo follower) {
      return appenders.make(server, leader, follower);
    }

    /** Ratis' gRPC services, over a server that holds repeated appends ({@link AppendGate}). */
    @Override
    public GrpcServices newRaftServerRpc(RaftServer server) {
      // Ratis builds this while it constructs the server, before the server knows its id.
      return super.newRaftServerRpc(new AppendGate(server,
          Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("raft-append-", 0).factory())));
    }
  }

  /**
   * Ratis' gRPC appender, whose stop gives up waiting after a limit, which builds an append
   * again when Ratis' own check fails it because the follower's next index moved meanwhile, and
   * which sends a snapshot where Ratis would fail to build an append ({@link #previousLostAtLogStart}).
   */
  static class Appender extends GrpcLogAppender {
    private final Duration stopLimit;
    private final FalseMatchGuard falseMatch = new FalseMatchGuard();
    private final SnapshotBoundFollowers snapshotBound;
    /** The follower's next index when a lost previous entry was last logged, so that each is logged once. */
    private final AtomicLong reportedLostPrevious = new AtomicLong(-1);

    /** Where this appender waits for work: a signal that is not lost between its check and its wait ({@link LatchedSignal}). */
    private final LatchedSignal events;

    Appender(RaftServer.Division server, LeaderState leader, FollowerInfo follower, Duration stopLimit,
        SnapshotBoundFollowers snapshotBound) {
      super(server, leader, follower);
      this.stopLimit = stopLimit;
      this.snapshotBound = Objects.requireNonNull(snapshotBound);
      this.events = new LatchedSignal(this);
    }

    /** Ratis' appender waits on, and is woken through, this; Ratis' own would drop a wake-up given just before the wait. */
    @Override
    public org.apache.ratis.util.AwaitForSignal getEventAwaitForSignal() {
      // null only while Ratis' constructor runs, before any thread can wait or signal
      return events != null ? events : super.getEventAwaitForSignal();
    }

    /**
     * Ratis 3.2.0 reads the follower's next index twice while it builds an append (for the entry
     * before the first one sent, then for the first one sent), and the thread that handles the
     * follower's answers may move it in between. The two then disagree and the request fails
     * Ratis' own check ({@code Previous = (t:57, i:108780) but firstIndex = 108782}, 14 times in
     * one chaos run). That ends the appender, and the one Ratis builds in its place starts with
     * an empty view of the follower, so it first sends the follower a whole snapshot, hundreds of
     * megabytes, which is also where the step-down deadlock above begins. Built again once the
     * index (or the log's start, which a purge moves on another thread) has moved, the request is
     * consistent.
     *
     * <p>Entries whose previous entry is purged cannot be sent at all ({@link #previousLostAtLogStart}):
     * the follower gets heartbeats at Ratis' heartbeat pace instead (they carry no previous entry,
     * and the follower changes nothing for them but its leader's time), until it answers and
     * {@link #shouldInstallSnapshot} sends it the snapshot.
     */
    @Override
    public AppendEntriesRequestProto newAppendEntriesRequest(long callId, boolean heartbeat) throws RaftLogIOException {
      return againIfMoved(() -> {
        if (lostPrevious().isEmpty()) {
          snapshotBound.remove(getFollowerId().toString());
          return super.newAppendEntriesRequest(callId, heartbeat);
        }
        return getHeartbeatWaitTimeMs() <= 0 ? super.newAppendEntriesRequest(callId, true) : null;
      }, () -> new BuildView(getFollower().getNextIndex(), getRaftLog().getStartIndex()),
          failure -> log.info("{}: built an append again: the follower's next index or the log's start moved while it"
              + " was built ({})", this, failure.getMessage()));
    }

    /** What building an append reads that other threads move: the follower's next index, the log's start. */
    private record BuildView(long followerNext, long logStart) {}

    /** Ratis' wait, or until the next heartbeat is due while heartbeats are all this follower can be sent. */
    @Override
    public long getWaitTimeMs() {
      return lostPrevious().isPresent() ? Math.max(1, getHeartbeatWaitTimeMs()) : super.getWaitTimeMs();
    }

    /**
     * Ratis' choice, and also the latest snapshot for a follower that answers and needs the entries
     * from exactly the start of this leader's log, the entry before them gone ({@link #previousLostAtLogStart}).
     */
    @Override
    public SnapshotInfo shouldInstallSnapshot() {
      SnapshotInfo chosen = super.shouldInstallSnapshot();
      if (chosen != null) {
        return chosen;
      }
      Optional<LostPrevious> lost = lostPrevious();
      // A follower that does not answer (down, while the purge passed it) gets heartbeats until it
      // does, not a snapshot read and sent into a closed connection again and again.
      if (lost.isEmpty() || getFollower().getLastRpcResponseTime().elapsedTimeMs() > getServer().properties().minRpcTimeoutMs()) {
        return null;
      }
      long next = lost.get().followerNext();
      SnapshotInfo snapshot = lost.get().snapshot();
      if (reportedLostPrevious.getAndSet(next) != next) {
        log.info("{}: the follower needs the entries from {}, the start of this leader's log, and entry {} before them"
            + " was purged; sending it the snapshot at {} instead (Ratis 3.2.0 fails the append)", this, next, next - 1,
            snapshot.getIndex());
      }
      // Its commit index stays just below the log's start while the snapshot goes: not a stall.
      snapshotBound.add(getFollowerId().toString());
      return snapshot;
    }

    /** A follower's next index whose previous entry is purged, and the snapshot that holds it. */
    private record LostPrevious(long followerNext, SnapshotInfo snapshot) {}

    /** The case {@link #previousLostAtLogStart} describes, for this follower now, if it is the case. */
    private Optional<LostPrevious> lostPrevious() {
      FollowerInfo follower = getFollower();
      RaftLog raftLog = getRaftLog();
      long next = follower.getNextIndex();
      long logStart = raftLog.getStartIndex();
      SnapshotInfo latest;
      // Called for every append: the common case (not at the log's start) costs two reads.
      if (next != logStart || (latest = getServer().getStateMachine().getLatestSnapshot()) == null) {
        return Optional.empty();
      }
      return previousLostAtLogStart(next, logStart, raftLog.getNextIndex(), latest.getIndex(),
          follower.getSnapshotIndex(), raftLog.getTermIndex(next - 1) != null)
          ? Optional.of(new LostPrevious(next, latest)) : Optional.empty();
    }

    /** Ratis' choice, unless the follower proved this leader's match index for it false ({@link FalseMatchGuard}). */
    @Override
    protected long getNextIndexForInconsistency(long requestFirstIndex, long replyNextIndex) {
      FollowerInfo follower = getFollower();
      return falseMatch.nextIndex(requestFirstIndex, replyNextIndex, follower.getMatchIndex(), follower.getCommitIndex(),
          getRaftLog().getStartIndex(), super.getNextIndexForInconsistency(requestFirstIndex, replyNextIndex),
          proof -> log.warn("{}: {}", this, proof));
    }

    @Override
    public CompletableFuture<LifeCycle.State> stopAsync() {
      snapshotBound.remove(getFollowerId().toString());
      return within(super.stopAsync(), stopLimit, () -> log.warn(
          "{}: the log appender did not end within {} ms of being told to stop; going on without waiting for it "
              + "(its thread may be waiting for the Raft server's monitor, RATIS-2345)", this, stopLimit.toMillis()));
    }
  }

  /**
   * Whether a follower must be sent the snapshot because its next append cannot be built: it
   * needs entries from {@code followerNext}, which is exactly the first index in the leader's
   * log, and Ratis 3.2.0 checks each append's first entry against the one before it, which is
   * neither in the log ({@code previousInLog}) nor the snapshot's last, nor the last of a
   * snapshot the follower installed. Ratis sends a snapshot only to a follower whose next index
   * is below the log's start; at the start itself building the append fails ({@code Previous
   * TermIndex not found for firstIndex = ...}), which ends the appender, and Ratis starts over
   * with a new one that knows nothing of the follower (in chaos seed 1136 the follower then stayed
   * put for 8 s, until the stalled-follower watch handed leadership away). Bulwark's appender
   * sends such a follower heartbeats instead of that append, and the snapshot once it answers.
   *
   * <p>Why it happens: a snapshot purges the log up to what every follower has committed, in
   * whole segments, and a segment ends at every change of term. So when a follower's commit
   * index, as last reported, was the last entry of a term (a leader killed once everything was
   * committed), the purge can end exactly there, and that follower returning asks for the entry
   * after it: the log's first (docs/chaos.md, "An appender that fails at the log's start").
   *
   * @param followerNext the follower's next index, as the leader has it
   * @param logStart the first index in the leader's log
   * @param logNext the index the leader's next entry gets
   * @param snapshotIndex the last index the leader's latest snapshot holds
   * @param followerSnapshotIndex the last index of the snapshot the follower was sent, if any
   * @param previousInLog whether entry {@code followerNext - 1} is in the leader's log
   */
  static boolean previousLostAtLogStart(long followerNext, long logStart, long logNext, long snapshotIndex,
      long followerSnapshotIndex, boolean previousInLog) {
    return followerNext > RaftLog.LEAST_VALID_LOG_INDEX // the first entry has no previous one
        && followerNext == logStart
        && followerNext < logNext // there is something to send
        && !previousInLog
        && snapshotIndex >= followerNext // not the previous entry itself, which Ratis would use; and it holds the gap
        && followerSnapshotIndex != followerNext - 1; // Ratis checks no previous right after an installed snapshot
  }

  /** Builds something that may throw {@code E}. */
  @FunctionalInterface
  interface Build<T, E extends Exception> {
    T build() throws E;
  }

  /** How often an append is built in all when the follower's next index keeps moving. */
  static final int BUILDS_MAX = 3;

  /**
   * {@code build}'s result. When it fails Ratis' check of the entry before the first one sent
   * ({@code Previous = ... but firstIndex = ...}, or {@code Previous TermIndex not found ...} when
   * the older index had been purged) and {@code view} (what the build reads that other threads
   * move) changed during it, it is built again (at most {@link #BUILDS_MAX} times in all), and
   * {@code onAgain} hears why. Any other failure, or this one with the view unchanged, is a real
   * inconsistency and is thrown.
   */
  static <T, E extends Exception> T againIfMoved(Build<T, E> build, Supplier<?> view,
      Consumer<RuntimeException> onAgain) throws E {
    for (int builds = 1; ; builds++) {
      Object before = view.get();
      try {
        return build.build();
      } catch (IllegalStateException | NullPointerException failure) {
        if (builds >= BUILDS_MAX || view.get().equals(before) || !isPreviousCheck(failure)) {
          throw failure;
        }
        onAgain.accept(failure);
      }
    }
  }

  /** Whether {@code failure} is Ratis 3.2.0's check of the entry before an append's first. */
  static boolean isPreviousCheck(RuntimeException failure) {
    String message = String.valueOf(failure.getMessage());
    return failure instanceof IllegalStateException ? message.contains(": Previous = ") && message.contains(" but firstIndex = ")
        : message.contains(": Previous TermIndex not found for firstIndex = ");
  }

  /**
   * {@code stopping}, or {@link LifeCycle.State#CLOSING} once {@code limit} has passed without
   * it, in which case {@code onGiveUp} runs once, first (if the stop ends just then, it may run
   * and the stop's own state be the answer).
   */
  static CompletableFuture<LifeCycle.State> within(CompletableFuture<LifeCycle.State> stopping, Duration limit,
      Runnable onGiveUp) {
    if (stopping.isDone()) {
      return stopping;
    }
    CompletableFuture<LifeCycle.State> bounded = new CompletableFuture<>();
    stopping.whenComplete((state, failure) -> {
      if (failure != null) {
        bounded.completeExceptionally(failure);
      } else {
        bounded.complete(state);
      }
    });
    // Run on the JDK's delay thread itself, not a pool that may be full.
    // onGiveUp runs before the stop counts as done, so its word comes before what follows the stop.
    CompletableFuture.delayedExecutor(limit.toNanos(), TimeUnit.NANOSECONDS, Runnable::run).execute(() -> {
      if (!bounded.isDone()) {
        onGiveUp.run();
        bounded.complete(LifeCycle.State.CLOSING);
      }
    });
    return bounded;
  }
}
