package dev.bulwark.server.raft;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
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
import org.apache.ratis.server.raftlog.RaftLogIOException;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ratis' gRPC transport with three changes to a leader's log appenders and one to a follower:
 * an appender counts as stopped at most {@link #STOP_LIMIT} after it was asked to stop, whether
 * or not its thread has left yet; one whose append fails Ratis' own check only because the
 * follower's next index moved while it was built builds it again instead of failing (see
 * {@link Appender}); one whose follower proved its match index false goes back to the
 * follower's own next index ({@link FalseMatchGuard}); and a follower holds an append that
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
    return new Factory(parameters, (server, leader, follower) -> new Appender(server, leader, follower, STOP_LIMIT));
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
   * Ratis' gRPC appender, whose stop gives up waiting after a limit, and which builds an append
   * again when Ratis' own check fails it because the follower's next index moved meanwhile.
   */
  static class Appender extends GrpcLogAppender {
    private final Duration stopLimit;
    private final FalseMatchGuard falseMatch = new FalseMatchGuard();

    Appender(RaftServer.Division server, LeaderState leader, FollowerInfo follower, Duration stopLimit) {
      super(server, leader, follower);
      this.stopLimit = stopLimit;
    }

    /**
     * Ratis 3.2.0 reads the follower's next index twice while it builds an append (for the entry
     * before the first one sent, then for the first one sent), and the thread that handles the
     * follower's answers may move it in between. The two then disagree and the request fails
     * Ratis' own check ({@code Previous = (t:57, i:108780) but firstIndex = 108782}, 14 times in
     * one chaos run). That ends the appender, and the one Ratis builds in its place starts with
     * an empty view of the follower, so it first sends the follower a whole snapshot, hundreds of
     * megabytes, which is also where the step-down deadlock above begins. Built again once the
     * index has moved, the request is consistent.
     */
    @Override
    public AppendEntriesRequestProto newAppendEntriesRequest(long callId, boolean heartbeat) throws RaftLogIOException {
      AppendEntriesRequestProto built = againIfMoved(() -> super.newAppendEntriesRequest(callId, heartbeat),
          getFollower()::getNextIndex,
          failure -> log.info("{}: built an append again: the follower's next index moved while it was built ({})", this,
              failure.getMessage()));
      return built;
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
      return within(super.stopAsync(), stopLimit, () -> log.warn(
          "{}: the log appender did not end within {} ms of being told to stop; going on without waiting for it "
              + "(its thread may be waiting for the Raft server's monitor, RATIS-2345)", this, stopLimit.toMillis()));
    }
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
   * the older index had been purged) and {@code nextIndex} moved during it, it is built again (at
   * most {@link #BUILDS_MAX} times in all), and {@code onAgain} hears why. Any other failure, or
   * this one with the index unmoved, is a real inconsistency and is thrown.
   */
  static <T, E extends Exception> T againIfMoved(Build<T, E> build, LongSupplier nextIndex,
      Consumer<RuntimeException> onAgain) throws E {
    for (int builds = 1; ; builds++) {
      long before = nextIndex.getAsLong();
      try {
        return build.build();
      } catch (IllegalStateException | NullPointerException failure) {
        if (builds >= BUILDS_MAX || nextIndex.getAsLong() == before || !isPreviousCheck(failure)) {
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
