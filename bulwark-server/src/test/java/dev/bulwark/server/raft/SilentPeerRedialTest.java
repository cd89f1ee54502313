package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.ledger.LedgerResult;
import dev.bulwark.server.engine.EngineConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SilentPeerRedials} and {@link PeerRedial} on three real Ratis replicas on 127.0.0.1,
 * each behind a {@link FreezableRelay}: every connection into one follower stops moving bytes
 * for good, the leader commits on with the other follower, and then that follower is stopped.
 * Only a new connection to the frozen follower can give the leader a majority again (its old
 * ones never recover, and it cannot win an election, its log being behind); with the redial the
 * next write is confirmed, without it the cluster stays stuck.
 */
class SilentPeerRedialTest {
  @TempDir
  Path dir;

  static final SigningKey ADMIN = SigningKey.generate(new SplittableRandom(81));
  static final SigningKey OPERATOR = SigningKey.generate(new SplittableRandom(82));
  static final SigningKey OWNER = SigningKey.generate(new SplittableRandom(83));

  @Test
  void aLeaderDialsAfreshAFollowerWhoseConnectionsTakeNoMoreBytes() throws Exception {
    Map<String, String> addresses = new LinkedHashMap<>();
    Map<String, Integer> bindPorts = new LinkedHashMap<>();
    Map<String, FreezableRelay> relays = new LinkedHashMap<>();
    try {
      for (String id : new String[] {"r1", "r2", "r3"}) {
        int port = InProcessCluster.freeLoopbackPort();
        FreezableRelay relay = new FreezableRelay(port);
        relays.put(id, relay);
        bindPorts.put(id, port);
        addresses.put(id, "127.0.0.1:" + relay.port());
      }
      try (var cluster = new InProcessCluster<LedgerRequest, LedgerResult>(addresses, bindPorts, dir,
          new Ledger(ADMIN.publicKey()), EngineConfig.defaults("redial"), RaftSettings.DEFAULT, OPERATOR)) {
        ReplicaServer<LedgerRequest, LedgerResult> leader = cluster.awaitLeader(60_000);
        assertThat(confirm(cluster, 1, new LedgerOp.OpenAccount("acct", OWNER.publicKey()), OWNER)).isTrue();
        // A healthy cluster under writes dials nobody afresh.
        long redialsBefore = redials(cluster);
        for (int i = 0; i < 20; i++) {
          assertThat(confirm(cluster, 2 + i, new LedgerOp.Deposit("acct", 1, Bytes.utf8("warm" + i)), ADMIN)).isTrue();
          Thread.sleep(50);
        }
        assertThat(redials(cluster)).as("redials while healthy").isEqualTo(redialsBefore);
        var followers = cluster.ids().stream().filter(id -> !id.equals(leader.id())).toList();
        String frozen = followers.get(0);
        String other = followers.get(1);
        int connectionsBefore = relays.get(frozen).connectionsAccepted();

        relays.get(frozen).freeze();
        // Entries the frozen follower does not get from the old connections: it cannot win an election without them.
        for (int i = 0; i < 20; i++) {
          assertThat(confirm(cluster, 100 + i, new LedgerOp.Deposit("acct", 1, Bytes.utf8("d" + i)), ADMIN)).isTrue();
        }
        cluster.stop(other);

        var after = cluster.sendAsync(request(1_000, new LedgerOp.Deposit("acct", 1, Bytes.utf8("after")), ADMIN), 3_000);
        assertThat(after.get(60, TimeUnit.SECONDS)).as("confirmed with the frozen follower, over a new connection")
            .isInstanceOf(Outcome.Confirmed.class);
        assertThat(relays.get(frozen).connectionsAccepted()).as("the follower was dialed afresh")
            .isGreaterThan(connectionsBefore);
        assertThat(leader.silentPeerRedials()).as("the leader's redials").isPositive();
        var follower = cluster.replica(frozen).orElseThrow();
        var current = cluster.awaitLeader(10_000);
        for (int i = 0; i < 100 && follower.status().commitIndex() < current.status().commitIndex(); i++) {
          Thread.sleep(50);
        }
        assertThat(follower.status().commitIndex()).as("the frozen follower holds every committed entry")
            .isEqualTo(current.status().commitIndex());
      }
    } finally {
      relays.values().forEach(FreezableRelay::close);
    }
  }

  private static long redials(InProcessCluster<LedgerRequest, LedgerResult> cluster) {
    return cluster.running().stream().mapToLong(ReplicaServer::silentPeerRedials).sum();
  }

  private static boolean confirm(InProcessCluster<LedgerRequest, LedgerResult> cluster, long sequence, LedgerOp op,
      SigningKey signer) throws InterruptedException {
    return cluster.send(request(sequence, op, signer), 1_000) instanceof Outcome.Confirmed;
  }

  private static ClientRequest request(long sequence, LedgerOp op, SigningKey signer) {
    return new ClientRequest(Bytes.utf8("redial-test"), sequence, LedgerRequest.CODEC.encode(LedgerRequest.sign(op, signer)));
  }
}
