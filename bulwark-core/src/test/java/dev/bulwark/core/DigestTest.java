package dev.bulwark.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;

class DigestTest {
  @Test
  void sha256MatchesTheStandardTestVectors() {
    assertThat(Digest.sha256("abc".getBytes(StandardCharsets.US_ASCII)).hex())
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assertThat(Digest.sha256(Bytes.EMPTY).hex())
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    MessageDigest engine = Digest.newSha256();
    engine.update("ab".getBytes(StandardCharsets.US_ASCII));
    engine.update("c".getBytes(StandardCharsets.US_ASCII));
    assertThat(Digest.finish(engine)).isEqualTo(Digest.sha256(Bytes.utf8("abc")));
  }

  @Test
  void holdsExactlyThirtyTwoBytesAndCopiesThem() {
    byte[] raw = new byte[32];
    raw[0] = 1;
    Digest digest = Digest.of(raw);
    raw[0] = 2;
    assertThat(digest.unsafeArray()[0]).isEqualTo((byte) 1);
    assertThat(digest.bytes().length()).isEqualTo(32);
    assertThat(Digest.fromHex(digest.hex())).isEqualTo(digest).hasSameHashCodeAs(digest);
    assertThat(digest.shortHex()).isEqualTo("0100000000000000");
    assertThat(digest.toString()).isEqualTo(digest.hex());
    assertThatThrownBy(() -> Digest.of(new byte[31])).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Digest.of(new byte[33])).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void ordersUnsignedLikeItsBytes() {
    Digest low = Digest.fromHex("7f" + "00".repeat(31));
    Digest high = Digest.fromHex("80" + "00".repeat(31));
    assertThat(low).isLessThan(high);
    assertThat(low.bytes()).isLessThan(high.bytes());
    assertThat(Digest.fromHex("00".repeat(31) + "ff")).isGreaterThan(Digest.fromHex("00".repeat(31) + "01"));
  }
}
