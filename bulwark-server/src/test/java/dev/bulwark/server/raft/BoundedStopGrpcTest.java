package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A leader's step-down no longer waits for ever for a log appender that waits for the server's
 * monitor (RATIS-2345), shown on real Ratis servers: an appender is held, as a snapshot send
 * would be, where it next needs the monitor, and the step-down must still finish.
 */
class BoundedStopGrpcTest {
  @TempDir
  Path dir;

  @Test
  void aStopThatEndsInTimeIsPassedOn() throws Exception {
    CompletableFuture<LifeCycle.State> stopping = new CompletableFuture<>();
    AtomicInteger gaveUp = new AtomicInteger();
    CompletableFuture<LifeCycle.State> bounded = BoundedStopGrpc.within(stopping, Duration.ofSeconds(30),
        gaveUp::incrementAndGet);
    stopping.complete(LifeCycle.State.CLOSED);
    assertThat(bounded.get(10, TimeUnit.SECONDS)).isEqualTo(LifeCycle.State.CLOSED);
    assertThat(gaveUp).hasValue(0);
    CompletableFuture<LifeCycle.State> done = CompletableFuture.completedFuture(LifeCycle.State.EXCEPTION);
    assertThat(BoundedStopGrpc.within(done, Duration.ofSeconds(30), gaveUp::incrementAndGet)).isSameAs(done);
  }

  @Test
  void aStopThatDoesNotEndIsGivenUpOnceAfterTheLimit() throws Exception {
    CompletableFuture<LifeCycle.State> stopping = new CompletableFuture<>();
    AtomicInteger gaveUp = new AtomicInteger();
    CompletableFuture<LifeCycle.State> bounded = BoundedStopGrpc.within(stopping, Duration.ofMillis(50),
        gaveUp::incrementAndGet);
    assertThat(bounded.get(10, TimeUnit.SECONDS)).isEqualTo(LifeCycle.State.CLOSING);
    assertThat(gaveUp).hasValue(1);
    stopping.complete(LifeCycle.State.CLOSED); // the thread ends later: nothing more happens
    assertThat(bounded.join()).isEqualTo(LifeCycle.State.CLOSING);
    assertThat(gaveUp).hasValue(1);
  }

  @Test
  void aStopThatFailsFailsTheSame() {
    CompletableFuture<LifeCycle.State> stopping = new CompletableFuture<>();
    CompletableFuture<LifeCycle.State> bounded = BoundedStopGrpc.within(stopping, Duration.ofSeconds(30), () -> { });
    stopping.completeExceptionally(new IllegalStateException("appender broke"));
    assertThatThrownBy(() -> bounded.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .hasRootCauseMessage("appender broke");
  }

  @Test
  void anAppendThatFailsItsCheckWhileTheNextIndexMovesIsBuiltAgain() {
    java.util.concurrent.atomic.AtomicLong nextIndex = new java.util.concurrent.atomic.AtomicLong(100);
    AtomicInteger builds = new AtomicInteger();
    List<String> again = new ArrayList<>();
    String built = BoundedStopGrpc.againIfMoved(() -> {
      if (builds.incrementAndGet() == 1) {
        nextIndex.set(103); // an answer moved it between Ratis' two reads
        throw new IllegalStateException("r1->r2: Previous = (t:5, i:99) but firstIndex = 103");
      }
      return "append from " + nextIndex.get();
    }, nextIndex::get, e -> again.add(e.getMessage()));
    assertThat(built).isEqualTo("append from 103");
    assertThat(builds).hasValue(2);
    assertThat(again).containsExactly("r1->r2: Previous = (t:5, i:99) but firstIndex = 103");
  }

  @Test
  void aFailedCheckWithTheNextIndexUnmovedIsThrown() {
    AtomicInteger builds = new AtomicInteger();
    assertThatThrownBy(() -> BoundedStopGrpc.againIfMoved(() -> {
      builds.incrementAndGet();
      throw new IllegalStateException("r1->r2: Previous = (t:5, i:99) but firstIndex = 101");
    }, () -> 101L, e -> { })).isInstanceOf(IllegalStateException.class).hasMessageContaining("firstIndex = 101");
    assertThat(builds).hasValue(1);
  }

  @Test
  void onlyRatisCheckOfThePreviousEntryIsBuiltAgain() {
    java.util.concurrent.atomic.AtomicLong nextIndex = new java.util.concurrent.atomic.AtomicLong(100);
    AtomicInteger builds = new AtomicInteger();
    assertThatThrownBy(() -> BoundedStopGrpc.againIfMoved(() -> {
      builds.incrementAndGet();
      nextIndex.incrementAndGet();
      throw new IllegalStateException("r1->r2: buffer has 3 elements.");
    }, nextIndex::get, e -> { })).hasMessageContaining("buffer has 3 elements");
    assertThat(builds).hasValue(1);
    // The purged-index variant of the same race is built again too.
    builds.set(0);
    String built = BoundedStopGrpc.againIfMoved(() -> {
      if (builds.incrementAndGet() == 1) {
        nextIndex.set(200);
        throw new NullPointerException("r1->r2: Previous TermIndex not found for firstIndex = 150");
      }
      return "append from " + nextIndex.get();
    }, nextIndex::get, e -> { });
    assertThat(built).isEqualTo("append from 200");
  }

  @Test
  void aBuildThatFailsWhileAPurgeMovesTheLogsStartIsBuiltAgain() {
    java.util.concurrent.atomic.AtomicLong logStart = new java.util.concurrent.atomic.AtomicLong(100);
    AtomicInteger builds = new AtomicInteger();
    String built = BoundedStopGrpc.againIfMoved(() -> {
      if (builds.incrementAndGet() == 1) {
        logStart.set(151); // a purge through 150 on the state machine's thread, the follower's next index unmoved
        throw new NullPointerException("r1->r2: Previous TermIndex not found for firstIndex = 151");
      }
      return "heartbeat";
    }, () -> List.of(151L, logStart.get()), e -> { });
    assertThat(built).isEqualTo("heartbeat");
    assertThat(builds).hasValue(2);
  }

  @Test
  void anIndexThatKeepsMovingGetsALimitedNumberOfBuilds() {
    java.util.concurrent.atomic.AtomicLong nextIndex = new java.util.concurrent.atomic.AtomicLong();
    AtomicInteger builds = new AtomicInteger();
    assertThatThrownBy(() -> BoundedStopGrpc.againIfMoved(() -> {
      builds.incrementAndGet();
      nextIndex.incrementAndGet();
      throw new IllegalStateException("r1->r2: Previous = (t:5, i:99) but firstIndex = 110");
    }, nextIndex::get, e -> { })).isInstanceOf(IllegalStateException.class);
    assertThat(builds).hasValue(BoundedStopGrpc.BUILDS_MAX);
  }

  @Test
  void aFollowerThatNeedsTheEntriesFromExactlyTheLogsStartWithTheOneBeforeThemPurgedIsSentTheSnapshot() {
    // Chaos seed 1136: the log starts at 240,756 (a term's last segment, through 240,755, was
    // purged), the snapshot holds 242,884, and the returning follower needs 240,756 onwards.
    assertThat(BoundedStopGrpc.previousLostAtLogStart(240_756, 240_756, 241_500, 242_884, 0, false)).isTrue();
  }

  @Test
  void everyOtherFollowerIsLeftToRatis() {
    assertThat(BoundedStopGrpc.previousLostAtLogStart(240_800, 240_756, 241_500, 242_884, 0, true))
        .as("inside the log: the previous entry is there").isFalse();
    assertThat(BoundedStopGrpc.previousLostAtLogStart(240_700, 240_756, 241_500, 242_884, 0, false))
        .as("below the log's start: Ratis sends the snapshot itself").isFalse();
    assertThat(BoundedStopGrpc.previousLostAtLogStart(240_756, 240_756, 241_500, 240_755, 0, false))
        .as("the snapshot ends just before the log: Ratis takes its last entry as the previous one").isFalse();
    assertThat(BoundedStopGrpc.previousLostAtLogStart(240_756, 240_756, 241_500, 242_884, 240_755, false))
        .as("the follower was sent a snapshot that ends there: Ratis checks no previous entry").isFalse();
    assertThat(BoundedStopGrpc.previousLostAtLogStart(240_756, 240_756, 240_756, 242_884, 0, false))
        .as("nothing to send").isFalse();
    assertThat(BoundedStopGrpc.previousLostAtLogStart(240_756, 240_756, 241_500, 240_000, 0, false))
        .as("a snapshot older than the gap does not fill it").isFalse();
    assertThat(BoundedStopGrpc.previousLostAtLogStart(0, 0, 10, 5, 0, false))
        .as("the very first entry has no previous one").isFalse();
  }

  // ---------------------------------------------------------------- RATIS-2345 on real servers

  /** The transport of the servers below: Bulwark's, with one appender that can be held. */
  public static final class HeldAppenderGrpc implements RpcType {
    /** Set: the next appender thread to look for work is held. */
    static final AtomicBoolean holdNext = new AtomicBoolean();
    static volatile CountDownLatch held = new CountDownLatch(1);
    static volatile CountDownLatch gotMonitor = new CountDownLatch(1);

    public HeldAppenderGrpc() {}

    @Override
    public String name() {
      return HeldAppenderGrpc.class.getName();
    }

    @Override
    public GrpcFactory newFactory(Parameters parameters) {
      return new BoundedStopGrpc.Factory(parameters,
          (server, leader, follower) -> new HeldAppender(server, leader, follower, BoundedStopGrpc.STOP_LIMIT));
    }
  }

  /**
   * An appender that, once held, waits (ignoring interrupts, as a thread reading a snapshot chunk
   * may not see them in time) until it is told to stop, and then enters the server's monitor, as
   * Ratis' snapshot send does before each chunk. A step-down tells it to stop while holding that
   * monitor, so this is exactly the deadlock's interleaving, with no race to win.
   */
  static final class HeldAppender extends BoundedStopGrpc.Appender {
    HeldAppender(RaftServer.Division server, LeaderState leader, FollowerInfo follower, Duration stopLimit) {
      super(server, leader, follower, stopLimit, new SnapshotBoundFollowers());
    }

    @Override
    public boolean shouldSendAppendEntries() {
      if (Thread.currentThread().getName().endsWith("-LogAppenderDaemon")
          && HeldAppenderGrpc.holdNext.compareAndSet(true, false)) {
        holdUntilStopped();
      }
      return super.shouldSendAppendEntries();
    }

    private void holdUntilStopped() {
      HeldAppenderGrpc.held.countDown();
      boolean interrupted = false;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (isRunning() && System.nanoTime() - deadline < 0) {
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      synchronized (getServer()) {
        HeldAppenderGrpc.gotMonitor.countDown();
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Test
  void aLeaderStepsDownWhileItsAppenderWaitsForTheServerMonitor() throws Exception {
    HeldAppenderGrpc.held = new CountDownLatch(1);
    HeldAppenderGrpc.gotMonitor = new CountDownLatch(1);
    RaftGroup group = group(3);
    List<RaftServer> servers = new ArrayList<>();
    RaftProperties clientProperties = new RaftProperties();
    // A call to a wedged server fails within the test's waits.
    org.apache.ratis.client.RaftClientConfigKeys.Rpc.setRequestTimeout(clientProperties,
        TimeDuration.valueOf(5, TimeUnit.SECONDS));
    try (RaftClient client = RaftClient.newBuilder().setRaftGroup(group).setProperties(clientProperties)
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(200,
            TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
        .build()) {
      for (RaftPeer peer : group.getPeers()) {
        RaftServer server = RaftServer.newBuilder().setServerId(peer.getId()).setGroup(group)
            .setStateMachine(new BaseStateMachine()).setProperties(serverProperties(peer)).setParameters(new Parameters())
            .build();
        servers.add(server);
        server.start();
      }
      assertThat(client.io().send(message("before")).isSuccess()).isTrue();
      RaftServer leader = leader(servers, group.getGroupId()).orElseThrow();

      HeldAppenderGrpc.holdNext.set(true);
      assertThat(HeldAppenderGrpc.held.await(30, TimeUnit.SECONDS)).as("one of the leader's appenders is held").isTrue();
      // An explicit step-down runs on the leader's event thread, inside the server's monitor.
      RaftClientReply stepDown = CompletableFuture.supplyAsync(() -> {
        try {
          return client.admin().transferLeadership(null, leader.getId(), 20_000);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).get(60, TimeUnit.SECONDS);
      assertThat(stepDown.isSuccess()).as("step-down reply %s", stepDown).isTrue();
      assertThat(HeldAppenderGrpc.gotMonitor.await(30, TimeUnit.SECONDS))
          .as("the held appender got the monitor once the step-down let go of it").isTrue();

      // The cluster goes on: a leader again, and writes commit.
      assertThat(client.io().send(message("after")).isSuccess()).isTrue();
      assertThat(leader(servers, group.getGroupId())).isPresent();
    } finally {
      for (RaftServer server : servers) {
        server.close();
      }
    }
  }

  private RaftProperties serverProperties(RaftPeer peer) {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, new HeldAppenderGrpc());
    RaftServerConfigKeys.setStorageDir(p, List.of(dir.resolve(peer.getId().toString()).toFile()));
    String address = peer.getAddress();
    GrpcConfigKeys.Server.setHost(p, "127.0.0.1");
    GrpcConfigKeys.Server.setPort(p, Integer.parseInt(address.substring(address.lastIndexOf(':') + 1)));
    // Elections slow enough that the held appender's follower does not start one before the
    // step-down: the interleaving under test is the step-down's.
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(3, TimeUnit.SECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(5, TimeUnit.SECONDS));
    return p;
  }

  private static RaftGroup group(int size) throws IOException {
    List<RaftPeer> peers = new ArrayList<>();
    for (int i = 1; i <= size; i++) {
      peers.add(RaftPeer.newBuilder().setId("p" + i).setAddress("127.0.0.1:" + InProcessCluster.freeLoopbackPort()).build());
    }
    return RaftGroup.valueOf(RaftGroupId.randomId(), peers);
  }

  private static Optional<RaftServer> leader(List<RaftServer> servers, RaftGroupId group)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() - deadline < 0) {
      for (RaftServer server : servers) {
        if (server.getDivision(group).getInfo().isLeader()) {
          return Optional.of(server);
        }
      }
      Thread.sleep(20);
    }
    return Optional.empty();
  }

  private static Message message(String text) {
    return Message.valueOf(text);
  }

}
