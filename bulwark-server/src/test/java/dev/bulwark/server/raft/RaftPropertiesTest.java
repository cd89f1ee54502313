package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.retry.MultipleLinearRandomRetry;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Ratis properties a replica runs with, where Bulwark departs from Ratis' defaults. */
class RaftPropertiesTest {
  @TempDir Path dir;

  @Test
  void theTransportIsGrpcWithABoundOnHowLongAStepDownWaitsForAnAppender() {
    var properties = ReplicaServer.properties(dir, 0, RaftSettings.DEFAULT);
    // Ratis reads the type back as a name and instantiates the class it names.
    var type = org.apache.ratis.RaftConfigKeys.Rpc.type(properties, ignored -> { });
    assertThat(type).isInstanceOf(BoundedStopGrpc.class);
    var factory = type.newFactory(new org.apache.ratis.conf.Parameters());
    assertThat(factory).isInstanceOf(BoundedStopGrpc.Factory.class);
    assertThat(factory.getRpcType()).isEqualTo(org.apache.ratis.rpc.SupportedRpcType.GRPC);
  }

  @Test
  void aLeaderKeepsCallingADownFollowerWellWithinTheElectionTimeout() {
    var properties = ReplicaServer.properties(dir, 0, RaftSettings.DEFAULT);
    String policy = RaftServerConfigKeys.Log.Appender.retryPolicy(properties);
    // Ratis reads the policy lazily, in each leader's appender, and takes a malformed one as null.
    MultipleLinearRandomRetry retry = MultipleLinearRandomRetry.parseCommaSeparated(policy);
    assertThat(retry).as("retry policy '%s'", policy).isNotNull();

    long electionTimeoutMinMs = RaftSettings.DEFAULT.electionTimeoutMin().toMillis();
    for (int failures : new int[] {1, 10, 11, 100, 100_000, 10_000_000}) {
      RetryPolicy.Action action = retry.handleAttemptFailure(() -> failures);
      assertThat(action.shouldRetry()).as("retries after %d failures", failures).isTrue();
      // The sleep is drawn uniformly from [0.5, 1.5] times the tier's wait.
      assertThat(action.getSleepTime().toLong(java.util.concurrent.TimeUnit.MILLISECONDS))
          .as("wait after %d failures", failures).isLessThanOrEqualTo(electionTimeoutMinMs / 2);
    }
  }

  @Test
  void aLeaderThatLostItsMajorityMayStandAgainAfterTwoElectionTimeoutsNotTenSeconds() {
    for (RaftSettings raft : new RaftSettings[] {RaftSettings.DEFAULT,
        new RaftSettings(java.time.Duration.ofMillis(150), java.time.Duration.ofMillis(300), java.time.Duration.ofSeconds(2),
            1 << 20, 1024, 8L << 20, java.util.Optional.empty())}) {
      var properties = ReplicaServer.properties(dir, 0, raft);
      long waitMs = RaftServerConfigKeys.LeaderElection.leaderStepDownWaitTime(properties)
          .toLong(java.util.concurrent.TimeUnit.MILLISECONDS);
      assertThat(waitMs).isEqualTo(2 * raft.electionTimeoutMax().toMillis())
          .isLessThan(RaftServerConfigKeys.LeaderElection.LEADER_STEP_DOWN_WAIT_TIME_DEFAULT
              .toLong(java.util.concurrent.TimeUnit.MILLISECONDS));
    }
  }

  /**
   * Ratis 3.2.0 keeps every snapshot chunk a leader sent reachable for element-limit x
   * request-timeout after sending it (from the chunk's time-out check), answered or not, and at
   * most element-limit chunks are unanswered at once. So a send holds those in flight plus what it
   * sent in that window; with Ratis' defaults (8 x 16 MiB, 24 s) a 1.3 GiB send held 750 MiB
   * (docs/chaos.md). Replicas run with -Xmx1g.
   */
  @Test
  void aSnapshotSendHoldsLittleOfTheLeadersHeap() {
    long heapBytes = 1L << 30;
    var settings = RaftSettings.DEFAULT;
    var properties = ReplicaServer.properties(dir, 0, settings);
    long chunkBytes = RaftServerConfigKeys.Log.Appender.snapshotChunkSizeMax(properties).getSize();
    int chunksInFlight = GrpcConfigKeys.Server.installSnapshotRequestElementLimit(properties);
    long windowMs = GrpcConfigKeys.Server.installSnapshotRequestTimeout(properties).toLong(TimeUnit.MILLISECONDS)
        * chunksInFlight;

    // 0 would be no limit at all (and a zero time-out, failing every send).
    assertThat(chunksInFlight).as("snapshot chunks in flight").isBetween(1, 8);
    assertThat(chunkBytes).as("a chunk fits one gRPC message")
        .isLessThan(GrpcConfigKeys.messageSizeMax(properties, s -> { }).getSize());
    assertThat(chunkBytes * (chunksInFlight + 1)).as("chunks in flight and the one being read")
        .isLessThanOrEqualTo(heapBytes / 64);
    // A chunk gets at least a peer call's time to be answered (2 s timed sends out on a loaded
    // machine), and is let go soon after.
    long peerMs = settings.peerRequestTimeout().toMillis();
    assertThat(windowMs).as("how long a sent chunk stays in heap, ms").isBetween(peerMs, 2 * peerMs);
    // What the window holds depends on how fast the leader sends, which no Ratis setting bounds:
    // at 80 MB/s (above the bursts measured on a 2-core machine) it stays under a third of the heap.
    long sendBytesPerSecond = 80_000_000;
    assertThat(chunkBytes * (chunksInFlight + 1) + sendBytesPerSecond * windowMs / 1000)
        .as("bytes a snapshot send holds").isLessThanOrEqualTo(heapBytes / 3);
  }
}
