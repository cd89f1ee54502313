package dev.bulwark.server.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.client.BulwarkClient;
import dev.bulwark.client.ClientConfig;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.Outcome;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the Java client looks for a new leader after its leader died: the surviving replicas go
 * on naming the dead one until they elect another, and the client must not dial it again on
 * every such hint, which would pace its search by the back-off of failed connections.
 */
class ClientLeaderSearchTest {
  @TempDir
  Path dir;

  /** How many times the follower names the dead leader before it names the new one. */
  static final int STALE_HINTS = 10;

  @Test
  void aHintNamingTheReplicaJustFoundDeadIsPassedOverForASecond() throws Exception {
    SecureRandom random = new SecureRandom();
    Certificates.Issued ca = Certificates.authority("cluster CA", Duration.ofDays(1), random);
    Certificates.write(ca, dir.resolve("ca.crt"), dir.resolve("ca.key"));
    for (String id : List.of("b", "c")) {
      var cert = Certificates.issue(ca, id, List.of("localhost"), List.of("127.0.0.1"), Duration.ofDays(1), random);
      Certificates.write(cert, dir.resolve(id + ".crt"), dir.resolve(id + ".key"));
    }
    AtomicInteger staleHints = new AtomicInteger();
    AtomicInteger deadDials = new AtomicInteger();
    // "b" names the dead "a" STALE_HINTS times, then "c"; "c" leads from then on.
    IngressServer.Handler follower = (request, origin, proofs) -> CompletableFuture.completedFuture(
        new Outcome.NotLeader(Optional.of(staleHints.getAndIncrement() < STALE_HINTS ? "a" : "c")));
    IngressServer.Handler newLeader = (request, origin, proofs) -> CompletableFuture.completedFuture(
        staleHints.get() <= STALE_HINTS ? new Outcome.NotLeader(Optional.empty()) : new Outcome.Rejected("test", "found"));
    // "a" died: its address accepts a connection and drops it before any TLS, so each dial fails.
    try (ServerSocket dead = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        IngressServer b = IngressServer.start(IngressConfig.loopback(dir.resolve("b.crt"), dir.resolve("b.key")), follower);
        IngressServer c = IngressServer.start(IngressConfig.loopback(dir.resolve("c.crt"), dir.resolve("c.key")), newLeader)) {
      Thread.ofPlatform().daemon().start(() -> {
        while (!dead.isClosed()) {
          try {
            Socket dialed = dead.accept();
            deadDials.incrementAndGet();
            dialed.close();
          } catch (IOException closed) {
            return;
          }
        }
      });
      Map<String, String> members = new LinkedHashMap<>();
      members.put("a", address(dead.getLocalSocketAddress()));
      members.put("b", "127.0.0.1:" + b.address().getPort());
      members.put("c", "127.0.0.1:" + c.address().getPort());
      SigningKey operator = SigningKey.generate(new SplittableRandom(41));
      ClientConfig config = ClientConfig.defaults(members, dir.resolve("ca.crt"), operator.publicKey(), "searcher");
      try (BulwarkClient client = new BulwarkClient(config)) {
        long started = System.nanoTime();
        Outcome outcome = client.submit(Bytes.utf8("anything"));
        long elapsedMs = (System.nanoTime() - started) / 1_000_000;

        assertThat(outcome).as("the new leader's answer").isEqualTo(new Outcome.Rejected("test", "found"));
        assertThat(staleHints.get()).as("hints asked of the follower").isGreaterThan(STALE_HINTS);
        // It first tries "a" (the first member), and then again at most once a second; dialing
        // "a" on each stale hint would make STALE_HINTS + 1 dials.
        assertThat(deadDials.get()).as("dials of the dead leader in %d ms", elapsedMs)
            .isBetween(1, 2 + (int) (elapsedMs / 1000));
      }
    }
  }

  private static String address(java.net.SocketAddress socket) {
    InetSocketAddress inet = (InetSocketAddress) socket;
    return "127.0.0.1:" + inet.getPort();
  }
}
