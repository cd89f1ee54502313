package dev.bulwark.server.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.core.protocol.Frame;
import dev.bulwark.core.protocol.Outcome;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client of another wire version, over real TLS: the replica answers its frame with an error
 * that names both versions, and handles nothing it sent.
 */
class WireVersionTest {
  @TempDir
  Path dir;

  @Test
  void aFrameOfAnotherWireVersionIsRefusedWithBothVersionsNamed() throws Exception {
    SecureRandom random = new SecureRandom();
    Certificates.Issued ca = Certificates.authority("test CA", Duration.ofDays(1), random);
    Certificates.write(Certificates.issue(ca, "r1", List.of("localhost"), List.of("127.0.0.1"), Duration.ofDays(1), random),
        dir.resolve("r1.crt"), dir.resolve("r1.key"));
    java.util.concurrent.atomic.AtomicInteger handled = new java.util.concurrent.atomic.AtomicInteger();
    try (IngressServer server = IngressServer.start(IngressConfig.loopback(dir.resolve("r1.crt"), dir.resolve("r1.key")),
        (request, origin, stateProofs) -> {
          handled.incrementAndGet();
          return CompletableFuture.completedFuture(new Outcome.Rejected("ECHO", "handled"));
        });
        Client client = new Client(ca.certificate(), server.address().getPort())) {
      byte[] frame = Frame.CODEC.encode(new Frame.Request(7, new ClientRequest(Bytes.utf8("c"), 1, Bytes.fromHex("00"))))
          .toByteArray();
      assertThat(frame[1]).as("the version follows the variant tag").isEqualTo((byte) Frame.VERSION);
      frame[1] = (byte) (Frame.VERSION + 1);
      client.sendRaw(frame);
      Frame answer = client.read();
      assertThat(answer).isInstanceOf(Frame.Error.class);
      assertThat(((Frame.Error) answer).code()).isEqualTo("MALFORMED_FRAME");
      assertThat(((Frame.Error) answer).message())
          .contains("wire format version " + (Frame.VERSION + 1) + " is not " + Frame.VERSION);
      assertThat(handled).hasValue(0);
    }
  }
}
