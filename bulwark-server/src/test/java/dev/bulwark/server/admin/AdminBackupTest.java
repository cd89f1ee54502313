package dev.bulwark.server.admin;

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
import dev.bulwark.server.raft.Backups;
import dev.bulwark.server.raft.InProcessCluster;
import dev.bulwark.server.raft.RaftSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GET /backup on a live replica: refused before there is anything to back up, then a zip that
 * verifies against the operator key, with the temporary checkpoint gone afterwards.
 */
class AdminBackupTest {
  static final SigningKey ADMIN = SigningKey.generate(new SplittableRandom(41));
  static final SigningKey OPERATOR = SigningKey.generate(new SplittableRandom(42));
  static final SigningKey OWNER = SigningKey.generate(new SplittableRandom(43));

  @TempDir
  Path dir;

  @Test
  void aBackupIsServedOnceThereIsABatchAndVerifies() throws Exception {
    try (var cluster = new InProcessCluster<LedgerRequest, LedgerResult>(1, dir.resolve("cluster"),
        new Ledger(ADMIN.publicKey()), EngineConfig.defaults("backup-route"), RaftSettings.DEFAULT, OPERATOR);
        HttpClient http = HttpClient.newHttpClient()) {
      var replica = cluster.awaitLeader(30_000);
      int port = InProcessCluster.freeLoopbackPort();
      try (AdminServer admin = AdminServer.start(new AdminConfig("127.0.0.1", port, Map.of(replica.id(), "127.0.0.1:" + port),
          Duration.ofMillis(500)), replica, List.of(), new ReplicaMetrics(replica))) {
        URI uri = URI.create("http://127.0.0.1:" + admin.address().getPort() + "/backup");
        HttpResponse<String> early = http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(early.statusCode()).isEqualTo(409);
        assertThat(early.body()).contains("nothing to back up");

        Outcome o = cluster.send(new ClientRequest(Bytes.utf8("c"), 1, LedgerRequest.CODEC.encode(
            LedgerRequest.sign(new LedgerOp.OpenAccount("alice", OWNER.publicKey()), OWNER))), 200);
        assertThat(o).isInstanceOf(Outcome.Confirmed.class);
        Path file = dir.resolve("backup.zip");
        HttpResponse<Path> taken = http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofFile(file));
        assertThat(taken.statusCode()).isEqualTo(200);
        assertThat(taken.headers().firstValue("Content-Type")).hasValue("application/zip");
        Backups.Manifest manifest = Backups.verify(file, OPERATOR.publicKey());
        assertThat(manifest.batchNumber()).isEqualTo(replica.replica().applied().batchNumber());
        assertThat(manifest.stateDigest()).isEqualTo(replica.replica().applied().stateDigest());
        assertThat(manifest.head()).isEqualTo(replica.replica().lastHead().orElseThrow());
        try (var left = Files.list(dir.resolve("cluster").resolve(replica.id()))) {
          assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("backup-"));
        }
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.noBody()).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
      }
    }
  }
}
