package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.apache.ratis.retry.MultipleLinearRandomRetry;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Ratis properties a replica runs with, where Bulwark departs from Ratis' defaults. */
class RaftPropertiesTest {
  @TempDir Path dir;

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
}
