package dev.bulwark.core.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.DecodeException;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The wire frames: canonical round trips, and a version this build does not speak is refused. */
class FrameTest {
  @Test
  void everyFrameWithoutProofsSurvivesItsEncoding() {
    List<Frame> frames = List.of(
        new Frame.Request(7, new ClientRequest(Bytes.utf8("c"), 3, Bytes.fromHex("0102"))),
        new Frame.RequestWithoutStateProofs(7, new ClientRequest(Bytes.utf8("c"), 3, Bytes.fromHex("0102"))),
        new Frame.Response(7, new Outcome.Busy("full")),
        new Frame.Response(8, new Outcome.NotLeader(Optional.of("r2"))),
        new Frame.Error(0, "MALFORMED_FRAME", "bad"),
        new Frame.Query(9, Bytes.fromHex("aa")),
        new Frame.AppQuery(10, "history", Bytes.fromHex("00ff")),
        new Frame.AppAnswer(10, Bytes.EMPTY));
    for (Frame f : frames) {
      assertThat(Frame.CODEC.decode(Frame.CODEC.encode(f))).as(f.toString()).isEqualTo(f);
    }
  }

  @Test
  void aRequestWithoutStateProofsIsItsOwnVariantAndOtherwiseTheSame() {
    ClientRequest request = new ClientRequest(Bytes.utf8("c"), 3, Bytes.fromHex("0102"));
    byte[] with = Frame.CODEC.encode(new Frame.Request(5, request)).toByteArray();
    byte[] without = Frame.CODEC.encode(new Frame.RequestWithoutStateProofs(5, request)).toByteArray();
    assertThat(with[0]).as("the request variant a replica of any version reads").isEqualTo((byte) 0);
    assertThat(without[0]).isEqualTo((byte) 7);
    assertThat(java.util.Arrays.copyOfRange(without, 1, without.length))
        .isEqualTo(java.util.Arrays.copyOfRange(with, 1, with.length));
  }

  @Test
  void anotherWireVersionIsRefused() {
    byte[] encoded = Frame.CODEC.encode(new Frame.AppQuery(1, "history", Bytes.EMPTY)).toByteArray();
    assertThat(encoded[1]).as("the version follows the variant tag").isEqualTo((byte) Frame.VERSION);
    encoded[1] = (byte) (Frame.VERSION + 1);
    assertThatThrownBy(() -> Frame.CODEC.decode(Bytes.adopt(encoded)))
        .isInstanceOfAny(IllegalArgumentException.class, DecodeException.class)
        .hasMessageContaining("wire format version");
  }
}
