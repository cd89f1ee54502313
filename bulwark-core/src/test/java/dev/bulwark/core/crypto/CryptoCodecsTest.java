package dev.bulwark.core.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.DecodeException;
import org.junit.jupiter.api.Test;

/** Keys and signatures encode as their raw bytes; a bad point fails decoding, not later. */
class CryptoCodecsTest {
  @Test
  void roundTrips() {
    Ed25519VectorsTest.Vector v = Ed25519VectorsTest.TEST_3;
    PublicKey key = PublicKey.fromHex(v.publicKey());
    Signature signature = Signature.fromHex(v.signature());
    assertThat(CryptoCodecs.publicKey().encode(key).hex()).isEqualTo(v.publicKey());
    assertThat(CryptoCodecs.publicKey().decode(CryptoCodecs.publicKey().encode(key))).isEqualTo(key);
    assertThat(CryptoCodecs.signature().encode(signature).hex()).isEqualTo(v.signature());
    assertThat(CryptoCodecs.signature().decode(CryptoCodecs.signature().encode(signature))).isEqualTo(signature);
  }

  @Test
  void decodingRejectsInvalidPointsShortInputAndTrailingBytes() {
    byte[] identity = new byte[32];
    identity[0] = 1;
    assertThatThrownBy(() -> CryptoCodecs.publicKey().decode(Bytes.of(identity)))
        .isInstanceOf(DecodeException.class)
        .satisfies(e -> assertThat(((DecodeException) e).reason()).isEqualTo(DecodeException.Reason.INVALID_VALUE));
    assertThatThrownBy(() -> CryptoCodecs.signature().decode(Bytes.of(new byte[63])))
        .isInstanceOf(DecodeException.class)
        .satisfies(e -> assertThat(((DecodeException) e).reason()).isEqualTo(DecodeException.Reason.TRUNCATED));
    assertThatThrownBy(() -> CryptoCodecs.signature().decode(Bytes.of(new byte[65])))
        .isInstanceOf(DecodeException.class)
        .satisfies(e -> assertThat(((DecodeException) e).reason()).isEqualTo(DecodeException.Reason.TRAILING_BYTES));
  }
}
