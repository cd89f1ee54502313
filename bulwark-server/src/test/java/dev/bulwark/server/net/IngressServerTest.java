package dev.bulwark.server.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;


import dev.bulwark.core.Bytes;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.core.protocol.Frame;
import dev.bulwark.core.protocol.Outcome;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS ingress on loopback with a real certificate chain: many requests in flight per
 * connection answered by id, "busy" past the limits, and bad input (a malformed frame, an
 * oversized one, bytes that are not TLS) ending only the connection that sent it.
 */
class IngressServerTest {
  @TempDir
  Path dir;

  Certificates.Issued ca;
  IngressServer server;
  /** Requests whose client id is "hold" wait here until the test completes them. */
  final Map<Long, CompletableFuture<Outcome>> held = new ConcurrentHashMap<>();

  @BeforeEach
  void start() {
    SecureRandom random = new SecureRandom();
    ca = Certificates.authority("test CA", Duration.ofDays(1), random);
    var replica = Certificates.issue(ca, "r1", List.of("localhost"), List.of("127.0.0.1"), Duration.ofDays(1), random);
    Certificates.write(replica, dir.resolve("r1.crt"), dir.resolve("r1.key"));
    Certificates.write(ca, dir.resolve("ca.crt"), dir.resolve("ca.key"));
    server = IngressServer.start(IngressConfig.loopback(dir.resolve("r1.crt"), dir.resolve("r1.key")).withInFlight(4, 6)
            .withClientCa(dir.resolve("ca.crt")),
        (request, origin, stateProofs) -> {
          if (request.clientId().equals(Bytes.utf8("who"))) {
            return CompletableFuture.completedFuture(new Outcome.Rejected("ORIGIN", origin.toString()));
          }
          if (request.clientId().equals(Bytes.utf8("proofs"))) {
            return CompletableFuture.completedFuture(new Outcome.Rejected("PROOFS", Boolean.toString(stateProofs)));
          }
          if (request.clientId().equals(Bytes.utf8("hold"))) {
            return held.computeIfAbsent(request.sequence(), s -> new CompletableFuture<>());
          }
          if (request.clientId().equals(Bytes.utf8("follower"))) {
            return CompletableFuture.completedFuture(new Outcome.NotLeader(Optional.of("r2")));
          }
          return CompletableFuture.completedFuture(new Outcome.Rejected("ECHO", Long.toString(request.sequence())));
        });
  }

  @AfterEach
  void stop() {
    server.close();
  }

  Client client() throws Exception {
    return new Client(ca.certificate(), server.address().getPort());
  }

  private String originSeenBy(Certificates.Issued identity) throws Exception {
    try (Client c = new Client(ca.certificate(), server.address().getPort(), identity)) {
      c.send(1, "who", 1);
      return ((Outcome.Rejected) ((Frame.Response) c.read()).outcome()).message();
    }
  }

  @Test
  void aConnectionIsAGatewayOnlyWithAGatewayCertificateFromTheClusterCa() throws Exception {
    SecureRandom random = new SecureRandom();
    var gateway = Certificates.issueClient(ca, "gw-1", Certificates.ClientRole.GATEWAY, Duration.ofDays(1), random);
    var plain = Certificates.issueClient(ca, "alice-app", Certificates.ClientRole.CLIENT, Duration.ofDays(1), random);
    var replicaCert = Certificates.issue(ca, "r2", List.of("localhost"), List.of("127.0.0.1"), Duration.ofDays(1), random);
    assertThat(originSeenBy(gateway)).isEqualTo(new dev.bulwark.core.app.Origin.Gateway("gw-1").toString());
    assertThat(originSeenBy(plain)).isEqualTo(dev.bulwark.core.app.Origin.PUBLIC.toString());
    assertThat(originSeenBy(replicaCert)).isEqualTo(dev.bulwark.core.app.Origin.PUBLIC.toString());
    assertThat(originSeenBy(null)).isEqualTo(dev.bulwark.core.app.Origin.PUBLIC.toString());
    // A gateway certificate from another CA does not get in at all.
    var otherCa = Certificates.authority("other CA", Duration.ofDays(1), random);
    var forged = Certificates.issueClient(otherCa, "gw-1", Certificates.ClientRole.GATEWAY, Duration.ofDays(1), random);
    assertThatThrownBy(() -> originSeenBy(forged)).isInstanceOf(IOException.class);
    assertThat(originSeenBy(gateway)).as("the server goes on").contains("gw-1");
  }

  @Test
  void aRequestAsksForStateProofsUnlessItsFrameSaysWithout() throws Exception {
    ClientRequest request = new ClientRequest(Bytes.utf8("proofs"), 1, Bytes.fromHex("00"));
    try (Client c = client()) {
      c.sendRaw(Frame.CODEC.encode(new Frame.Request(1, request)).toByteArray());
      assertThat(c.read()).isEqualTo(new Frame.Response(1, new Outcome.Rejected("PROOFS", "true")));
      c.sendRaw(Frame.CODEC.encode(new Frame.RequestWithoutStateProofs(2, request)).toByteArray());
      assertThat(c.read()).isEqualTo(new Frame.Response(2, new Outcome.Rejected("PROOFS", "false")));
    }
  }

  @Test
  void answersEachRequestByItsIdWhileOthersAreStillInFlight() throws Exception {
    try (Client c = client()) {
      assertThat(c.socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
      c.send(1, "hold", 1);
      c.send(2, "hold", 2);
      c.send(3, "anyone", 7);
      assertThat(c.read()).isEqualTo(new Frame.Response(3, new Outcome.Rejected("ECHO", "7")));
      for (int i = 0; i < 500 && held.size() < 2; i++) {
        Thread.sleep(5);
      }
      held.get(2L).complete(new Outcome.Busy("two"));
      held.get(1L).complete(new Outcome.Busy("one"));
      assertThat(c.read()).isEqualTo(new Frame.Response(2, new Outcome.Busy("two")));
      assertThat(c.read()).isEqualTo(new Frame.Response(1, new Outcome.Busy("one")));
      c.send(4, "follower", 1);
      assertThat(c.read()).isEqualTo(new Frame.Response(4, new Outcome.NotLeader(Optional.of("r2"))));
    }
  }

  @Test
  void pastTheInFlightLimitsRequestsAreAnsweredBusyAtOnce() throws Exception {
    try (Client c = client(); Client d = client()) {
      for (int i = 1; i <= 5; i++) {
        c.send(i, "hold", i);
      }
      // The fifth exceeds this connection's limit of 4.
      assertThat(c.read()).isEqualTo(new Frame.Response(5, new Outcome.Busy("this connection has 4 requests in flight")));
      d.send(1, "hold", 101);
      d.send(2, "hold", 102);
      d.send(3, "hold", 103);
      // 4 + 2 = the replica's limit of 6: the next is busy on any connection.
      assertThat(d.read()).isEqualTo(new Frame.Response(3, new Outcome.Busy("this replica has 6 requests in flight")));
      for (int i = 0; i < 500 && held.size() < 6; i++) {
        Thread.sleep(5);
      }
      held.values().forEach(f -> f.complete(new Outcome.Rejected("DONE", "")));
      List<Long> answered = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        answered.add(((Frame.Response) c.read()).requestId());
      }
      assertThat(answered).containsExactlyInAnyOrder(1L, 2L, 3L, 4L);
      // Capacity came back.
      c.send(9, "anyone", 9);
      assertThat(c.read()).isEqualTo(new Frame.Response(9, new Outcome.Rejected("ECHO", "9")));
    }
  }

  @Test
  void badInputEndsOnlyTheConnectionThatSentIt() throws Exception {
    try (Client good = client()) {
      try (Client bad = client()) {
        bad.sendRaw(new byte[] {9, 9, 9});
        Frame error = bad.read();
        assertThat(error).isInstanceOf(Frame.Error.class);
        assertThat(((Frame.Error) error).code()).isEqualTo("MALFORMED_FRAME");
        assertThatThrownBy(bad::read).isInstanceOfAny(EOFException.class, SSLException.class, IOException.class);
      }
      try (Client big = client()) {
        big.out.writeInt((1 << 20) + 1);
        big.out.write(new byte[1024]);
        big.out.flush();
        Frame error = big.read();
        assertThat(((Frame.Error) error).code()).isEqualTo("FRAME_TOO_LARGE");
      }
      try (Socket plain = new Socket("127.0.0.1", server.address().getPort())) {
        plain.setSoTimeout(10_000);
        plain.getOutputStream().write("GET / HTTP/1.1\r\n\r\n garbage that is not TLS".getBytes());
        plain.getOutputStream().flush();
        // The server ends this connection (a TLS alert, then EOF, or a reset).
        boolean ended = false;
        try {
          for (int i = 0; i < 100 && !ended; i++) {
            ended = plain.getInputStream().read(new byte[256]) < 0;
          }
        } catch (IOException reset) {
          ended = true;
        }
        assertThat(ended).isTrue();
      }
      // The first connection never noticed.
      good.send(1, "anyone", 1);
      assertThat(good.read()).isEqualTo(new Frame.Response(1, new Outcome.Rejected("ECHO", "1")));
    }
  }

  /** Random, truncated and mutated frames on many connections while one correct client keeps working. */
  @Test
  void randomAndTruncatedFramesNeverDisturbACorrectClient() throws Exception {
    java.util.SplittableRandom random = new java.util.SplittableRandom(2026);
    byte[] valid = Frame.CODEC.encode(new Frame.Request(7, new dev.bulwark.core.protocol.ClientRequest(Bytes.utf8("x"), 1,
        Bytes.fromHex("0102")))).toByteArray();
    try (Client good = client()) {
      for (int round = 0; round < 40; round++) {
        try (Client bad = client()) {
          byte[] frame = switch (round % 4) {
            case 0 -> java.util.Arrays.copyOf(valid, random.nextInt(valid.length)); // truncated
            case 1 -> {
              byte[] m = valid.clone();
              m[random.nextInt(m.length)] ^= (byte) (1 + random.nextInt(255)); // one byte changed
              yield m;
            }
            case 2 -> {
              byte[] r = new byte[random.nextInt(1, 200)];
              random.nextBytes(r);
              yield r; // noise
            }
            default -> new byte[0];
          };
          bad.sendRaw(frame);
          try {
            Frame answer = bad.read();
            // A mutation can still be a valid request (another id, client or payload): then it is answered.
            assertThat(answer).isInstanceOfAny(Frame.Error.class, Frame.Response.class);
          } catch (IOException closed) {
            // the connection was closed after the error: fine
          }
        }
        good.send(round + 1, "anyone", round + 1);
        assertThat(good.read()).as("round %d", round)
            .isEqualTo(new Frame.Response(round + 1, new Outcome.Rejected("ECHO", Long.toString(round + 1))));
      }
    }
  }

  @Test
  void aClientThatDoesNotTrustTheClusterCaRefusesTheReplica() throws Exception {
    SSLContext context = SSLContext.getInstance("TLSv1.3");
    context.init(null, null, new SecureRandom()); // the JDK's default trust store only
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", server.address().getPort())) {
      socket.setSoTimeout(10_000);
      assertThatThrownBy(socket::startHandshake).isInstanceOf(SSLException.class);
    }
  }
}
