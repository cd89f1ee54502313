package dev.bulwark.server.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.core.protocol.Frame;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.ledger.LedgerResult;
import dev.bulwark.server.engine.EngineConfig;
import dev.bulwark.server.raft.InProcessCluster;
import dev.bulwark.server.raft.RaftSettings;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each replica of a real three-replica cluster behind its own TLS listener: a follower answers
 * with the leader's id, the leader confirms, and the receipt that came over the wire verifies.
 */
class IngressClusterTest {
  @TempDir
  Path dir;

  @Test
  void aRequestFollowsTheRedirectToTheLeaderAndItsReceiptVerifies() throws Exception {
    SigningKey admin = SigningKey.generate(new SplittableRandom(1));
    SigningKey operator = SigningKey.generate(new SplittableRandom(2));
    SecureRandom random = new SecureRandom();
    Certificates.Issued ca = Certificates.authority("cluster CA", Duration.ofDays(1), random);
    Map<String, IngressServer> ingress = new HashMap<>();
    try (var cluster = new InProcessCluster<LedgerRequest, LedgerResult>(3, dir.resolve("replicas"),
        new Ledger(admin.publicKey()), EngineConfig.defaults("edge-test"), RaftSettings.DEFAULT, operator)) {
      for (String id : cluster.ids()) {
        var cert = Certificates.issue(ca, id, List.of("localhost"), List.of("127.0.0.1"), Duration.ofDays(1), random);
        Certificates.write(cert, dir.resolve(id + ".crt"), dir.resolve(id + ".key"));
        var replica = cluster.replica(id).orElseThrow();
        ingress.put(id, IngressServer.start(IngressConfig.loopback(dir.resolve(id + ".crt"), dir.resolve(id + ".key")),
            replica::submit));
      }
      String leader = cluster.awaitLeader(30_000).id();
      String follower = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      SigningKey owner = SigningKey.generate(new SplittableRandom(3));
      ClientRequest open = new ClientRequest(Bytes.utf8("wire-client"), 1,
          LedgerRequest.CODEC.encode(LedgerRequest.sign(new LedgerOp.OpenAccount("alice", owner.publicKey()), owner)));

      try (Client c = new Client(ca.certificate(), ingress.get(follower).address().getPort())) {
        c.sendRaw(Frame.CODEC.encode(new Frame.Request(1, open)).toByteArray());
        assertThat(c.read()).isEqualTo(new Frame.Response(1, new Outcome.NotLeader(java.util.Optional.of(leader))));
      }
      try (Client c = new Client(ca.certificate(), ingress.get(leader).address().getPort())) {
        c.sendRaw(Frame.CODEC.encode(new Frame.Request(2, open)).toByteArray());
        Frame.Response response = (Frame.Response) c.read();
        assertThat(response.requestId()).isEqualTo(2);
        Outcome.Confirmed confirmed = (Outcome.Confirmed) response.outcome();
        assertThat(confirmed.result()).isInstanceOf(ResultEnvelope.Applied.class);
        assertThat(confirmed.receipt().verify(operator.publicKey()).isValid()).isTrue();
        assertThat(confirmed.receipt().confirmation().requestDigest()).isEqualTo(open.digest());
      }
    } finally {
      ingress.values().forEach(IngressServer::close);
    }
  }
}
