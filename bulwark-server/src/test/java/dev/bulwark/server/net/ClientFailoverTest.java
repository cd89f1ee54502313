package dev.bulwark.server.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.client.BulwarkClient;
import dev.bulwark.client.ClientConfig;
import dev.bulwark.client.ReceiptRejectedException;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.app.StateMirror;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.core.receipt.Confirmation;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.ledger.Account;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java client against a three-replica cluster behind TLS listeners: it finds the leader,
 * keeps going through a failover with retries that are never applied twice, and refuses a
 * receipt the operator did not sign.
 */
class ClientFailoverTest {
  @TempDir
  Path dir;

  static final SigningKey ADMIN = SigningKey.generate(new SplittableRandom(31));
  static final SigningKey OPERATOR = SigningKey.generate(new SplittableRandom(32));

  @Test
  void transfersGoOnThroughALeaderFailureExactlyOnce() throws Exception {
    SecureRandom random = new SecureRandom();
    Certificates.Issued ca = Certificates.authority("cluster CA", Duration.ofDays(1), random);
    Certificates.write(ca, dir.resolve("ca.crt"), dir.resolve("ca.key"));
    Map<String, IngressServer> ingress = new ConcurrentHashMap<>();
    Map<String, String> addresses = new LinkedHashMap<>();
    try (var cluster = new InProcessCluster<LedgerRequest, LedgerResult>(3, dir.resolve("replicas"),
        new Ledger(ADMIN.publicKey()), EngineConfig.defaults("client-test"), RaftSettings.DEFAULT, OPERATOR)) {
      for (String id : cluster.ids()) {
        var cert = Certificates.issue(ca, id, List.of("localhost"), List.of("127.0.0.1"), Duration.ofDays(1), random);
        Certificates.write(cert, dir.resolve(id + ".crt"), dir.resolve(id + ".key"));
        var replica = cluster.replica(id).orElseThrow();
        IngressServer server = IngressServer.start(IngressConfig.loopback(dir.resolve(id + ".crt"), dir.resolve(id + ".key")),
            replica::submit);
        ingress.put(id, server);
        addresses.put(id, "127.0.0.1:" + server.address().getPort());
      }
      cluster.awaitLeader(30_000);
      ClientConfig config = ClientConfig.defaults(addresses, dir.resolve("ca.crt"), OPERATOR.publicKey(), "test-client")
          .withLanes(8);
      try (BulwarkClient client = new BulwarkClient(config)) {
        int accounts = 4;
        List<SigningKey> owners = new ArrayList<>();
        for (int i = 0; i < accounts; i++) {
          SigningKey owner = SigningKey.generate(new SplittableRandom(300 + i));
          owners.add(owner);
          applied(client.submit(payload(new LedgerOp.OpenAccount("acct-" + i, owner.publicKey()), owner)));
          applied(client.submit(payload(new LedgerOp.Deposit("acct-" + i, 100, Bytes.utf8("d" + i)), ADMIN)));
        }
        // One sequential stream of transfers per account (nonces), all streams at once.
        int each = 15;
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        List<CompletableFuture<Void>> streams = new ArrayList<>();
        for (int i = 0; i < accounts; i++) {
          int from = i;
          streams.add(CompletableFuture.runAsync(() -> {
            for (int n = 1; n <= each; n++) {
              try {
                applied(client.submit(payload(new LedgerOp.Transfer("acct-" + from, "acct-" + ((from + 1) % accounts), 1, n),
                    owners.get(from))));
                done.incrementAndGet();
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            }
          }, java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()));
        }
        for (int i = 0; i < 3000 && done.get() < 10; i++) {
          Thread.sleep(2);
        }
        String leader = cluster.awaitLeader(30_000).id();
        int doneAtFailure = done.get();
        ingress.remove(leader).close();
        cluster.stop(leader);
        assertThat(doneAtFailure).as("the leader failed in the middle of the load").isLessThan(accounts * each);
        CompletableFuture.allOf(streams.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);

        var now = cluster.awaitLeader(30_000);
        long total = 0;
        for (int i = 0; i < accounts; i++) {
          Account a = StateMirror.get(now.replica().objects().store(), Ledger.ACCOUNTS, "acct-" + i).orElseThrow();
          assertThat(a.nonce()).as("transfers applied from acct-%d", i).isEqualTo(each);
          total += a.balance();
        }
        assertThat(total).isEqualTo(accounts * 100L);
      }
    } finally {
      ingress.values().forEach(IngressServer::close);
    }
  }

  /**
   * A client configured with one follower only (as if the cluster's membership had changed
   * since it was configured) asks that follower for the current members when it names a leader
   * the client does not know, and then reaches that leader.
   */
  @Test
  void aClientLearnsTheMembersItWasNotConfiguredWith() throws Exception {
    SecureRandom random = new SecureRandom();
    Certificates.Issued ca = Certificates.authority("cluster CA", Duration.ofDays(1), random);
    Certificates.write(ca, dir.resolve("ca.crt"), dir.resolve("ca.key"));
    Map<String, IngressServer> ingress = new ConcurrentHashMap<>();
    Map<String, String> addresses = new ConcurrentHashMap<>();
    try (var cluster = new InProcessCluster<LedgerRequest, LedgerResult>(3, dir.resolve("replicas"),
        new Ledger(ADMIN.publicKey()), EngineConfig.defaults("client-test"), RaftSettings.DEFAULT, OPERATOR)) {
      for (String id : cluster.ids()) {
        var cert = Certificates.issue(ca, id, List.of("localhost"), List.of("127.0.0.1"), Duration.ofDays(1), random);
        Certificates.write(cert, dir.resolve(id + ".crt"), dir.resolve(id + ".key"));
        var replica = cluster.replica(id).orElseThrow();
        IngressServer server = IngressServer.start(IngressConfig.loopback(dir.resolve(id + ".crt"), dir.resolve(id + ".key")),
            replica::submit, new IngressServer.Queries() {
              @Override public dev.bulwark.core.protocol.Frame.Answer state(Bytes key) {
                return replica.query(key);
              }

              @Override public Bytes application(String name, Bytes argument) {
                return replica.appQuery(name, argument);
              }

              @Override public Map<String, String> members() {
                return Map.copyOf(addresses);
              }
            });
        ingress.put(id, server);
        addresses.put(id, "127.0.0.1:" + server.address().getPort());
      }
      String leader = cluster.awaitLeader(30_000).id();
      String follower = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      ClientConfig config = ClientConfig.defaults(Map.of(follower, addresses.get(follower)), dir.resolve("ca.crt"),
          OPERATOR.publicKey(), "learner");
      try (BulwarkClient client = new BulwarkClient(config)) {
        SigningKey owner = SigningKey.generate(new SplittableRandom(400));
        Outcome opened = client.submit(payload(new LedgerOp.OpenAccount("learned", owner.publicKey()), owner));
        applied(opened);
        // Only the leader confirms, and only the learned members name it.
        assertThat(client.members()).as("the members the follower listed").isEqualTo(addresses);
      }
    } finally {
      ingress.values().forEach(IngressServer::close);
    }
  }

  @Test
  void aReceiptTheOperatorDidNotSignIsRefused() throws Exception {
    SecureRandom random = new SecureRandom();
    Certificates.Issued ca = Certificates.authority("cluster CA", Duration.ofDays(1), random);
    Certificates.write(ca, dir.resolve("ca.crt"), dir.resolve("ca.key"));
    var cert = Certificates.issue(ca, "r1", List.of("localhost"), List.of("127.0.0.1"), Duration.ofDays(1), random);
    Certificates.write(cert, dir.resolve("r1.crt"), dir.resolve("r1.key"));
    SigningKey impostor = SigningKey.generate(new SplittableRandom(99));
    // A "replica" that confirms everything with receipts signed by the wrong key.
    try (IngressServer fake = IngressServer.start(IngressConfig.loopback(dir.resolve("r1.crt"), dir.resolve("r1.key")),
        (request, origin, stateProofs) -> {
          ResultEnvelope result = new ResultEnvelope.Applied(Bytes.fromHex("00"));
          Confirmation c = new Confirmation("client-test", request.digest(), 0, 0, result.digest());
          return CompletableFuture.completedFuture(new Outcome.Confirmed(result, Receipt.PerRequest.sign(c, impostor)));
        });
        BulwarkClient client = new BulwarkClient(ClientConfig.defaults(
            Map.of("r1", "127.0.0.1:" + fake.address().getPort()), dir.resolve("ca.crt"), OPERATOR.publicKey(), "c"))) {
      assertThatThrownBy(() -> client.submit(Bytes.fromHex("01"))).isInstanceOf(ReceiptRejectedException.class)
          .hasMessageContaining("does not verify");
    }
  }

  static Bytes payload(LedgerOp op, SigningKey key) {
    return LedgerRequest.CODEC.encode(LedgerRequest.sign(op, key));
  }

  static void applied(Outcome o) {
    assertThat(o).isInstanceOf(Outcome.Confirmed.class);
    assertThat(((Outcome.Confirmed) o).result()).isInstanceOf(ResultEnvelope.Applied.class);
  }
}
