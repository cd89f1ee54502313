package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.ledger.LedgerResult;
import dev.bulwark.server.engine.EngineConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link LeaderExitWatch} on three real Ratis replicas on 127.0.0.1: a follower that goes away
 * starts no election, and when the leader's server goes away the first follower by id starts
 * the election itself and wins it, in the very next term.
 */
class LeaderExitElectionTest {
  @TempDir
  Path dir;

  static final SigningKey ADMIN = SigningKey.generate(new SplittableRandom(71));
  static final SigningKey OPERATOR = SigningKey.generate(new SplittableRandom(72));

  /** Timeouts of seconds, so that a leader change within the test comes from the watch, not Ratis' timer, unless the watch fails. */
  static final RaftSettings SLOW_TIMEOUTS = new RaftSettings(Duration.ofSeconds(3), Duration.ofSeconds(6),
      Duration.ofSeconds(2), 1 << 20, 1024, 8L << 20, Optional.empty());

  @Test
  void aGoneFollowerStartsNothingAndAGoneLeaderIsReplacedByTheWatchsElection() throws Exception {
    try (var cluster = new InProcessCluster<LedgerRequest, LedgerResult>(3, dir, new Ledger(ADMIN.publicKey()),
        EngineConfig.defaults("leader-exit"), SLOW_TIMEOUTS, OPERATOR)) {
      ReplicaServer<LedgerRequest, LedgerResult> leader = cluster.awaitLeader(60_000);
      long term = leader.currentTerm();
      String follower = cluster.ids().stream().filter(id -> !id.equals(leader.id())).findFirst().orElseThrow();

      // A follower's server goes away: its connections close, the leader's port still answers.
      cluster.stop(follower);
      Thread.sleep(1_000);
      assertThat(leader.isSequencing()).isTrue();
      assertThat(leader.currentTerm()).as("no election").isEqualTo(term);
      for (var r : cluster.running()) {
        assertThat(r.leaderExitElections()).as(r.id()).isZero();
      }
      cluster.start(follower);
      // Back, and holding what the leader holds: otherwise its vote would go to neither's log being longer.
      var back = cluster.replica(follower).orElseThrow();
      for (int i = 0; i < 300 && !(back.leaderId().equals(Optional.of(leader.id()))
          && back.status().commitIndex() == leader.status().commitIndex()); i++) {
        Thread.sleep(100);
      }
      assertThat(back.status().commitIndex()).isEqualTo(leader.status().commitIndex());

      // The leader's server goes away: its port closes, then its connections.
      String gone = leader.id();
      cluster.stop(gone);
      ReplicaServer<LedgerRequest, LedgerResult> next = cluster.awaitLeader(30_000);
      assertThat(next.id()).isNotEqualTo(gone);
      assertThat(next.leaderExitElections()).as("the new leader stood because its watch saw the leader gone").isEqualTo(1);
      assertThat(next.currentTerm()).as("won at the first try").isEqualTo(term + 1);
      String firstById = cluster.ids().stream().filter(id -> !id.equals(gone)).sorted().findFirst().orElseThrow();
      assertThat(next.id()).as("the first follower by id goes first").isEqualTo(firstById);
    }
  }
}
