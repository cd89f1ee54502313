package dev.bulwark.core.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Construction rules, the fingerprint's golden value, equality and verification edge cases. */
class PublicKeyTest {
  private static final PublicKey TEST_1_KEY = PublicKey.fromHex(Ed25519VectorsTest.TEST_1.publicKey());

  @Test
  void fingerprintIsTheFirstEightBytesOfSha256InGroupsOfFour() {
    // sha256(d75a98...511a) = 21fe31dfa154a261626bf8..., checked with sha256sum.
    assertThat(TEST_1_KEY.fingerprint()).isEqualTo("21fe:31df:a154:a261");
    assertThat(PublicKey.fromHex(Ed25519VectorsTest.TEST_1.publicKey()).fingerprint()).isEqualTo(TEST_1_KEY.fingerprint());
    assertThat(TEST_1_KEY.toString()).isEqualTo("PublicKey[21fe:31df:a154:a261]");
  }

  @Test
  void rejectsWrongLengths() {
    for (int length : new int[] {0, 1, 31, 33, 64}) {
      assertThatThrownBy(() -> PublicKey.of(Bytes.of(new byte[length])))
          .isInstanceOf(IllegalArgumentException.class)
          .isInstanceOf(KeyFormatException.class)
          .hasMessage("an Ed25519 public key has 32 bytes, not " + length);
    }
    assertThatThrownBy(() -> PublicKey.fromHex("d75a98"))
        .isInstanceOf(KeyFormatException.class)
        .hasMessage("an Ed25519 public key is 64 hex digits, not 6");
    assertThatThrownBy(() -> PublicKey.fromHex("z".repeat(64)))
        .isInstanceOf(KeyFormatException.class)
        .hasMessageStartingWith("an Ed25519 public key in hex has only the digits");
  }

  @Test
  void rejectsBytesThatAreNoValidPoint() {
    // Not on the curve.
    byte[] offCurve = TEST_1_KEY.bytes().toByteArray();
    offCurve[0] ^= 1;
    // The identity and a point of order 2 (y = -1): small order, weak keys.
    byte[] identity = new byte[32];
    identity[0] = 1;
    byte[] orderTwo = Bytes.fromHex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f").toByteArray();
    // y = p, the non-canonical encoding of y = 0.
    byte[] nonCanonical = Bytes.fromHex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f").toByteArray();
    for (byte[] bad : new byte[][] {offCurve, identity, orderTwo, nonCanonical}) {
      assertThatThrownBy(() -> PublicKey.of(Bytes.of(bad)))
          .isInstanceOf(KeyFormatException.class)
          .hasMessageContaining("not a valid Ed25519 public key")
          .hasMessageContaining(Bytes.of(bad).hex());
    }
  }

  @Test
  void randomBytesAreUsuallyRefusedAndNeverThrowAnythingElse() {
    SplittableRandom random = new SplittableRandom(42);
    int accepted = 0;
    for (int i = 0; i < 500; i++) {
      byte[] raw = new byte[32];
      random.nextBytes(raw);
      try {
        PublicKey.of(Bytes.of(raw));
        accepted++;
      } catch (KeyFormatException expected) {
        // about 15 in 16 random strings are not in the prime-order subgroup
      }
    }
    assertThat(accepted).isBetween(5, 100);
  }

  @Test
  void equalityIsByBytes() {
    PublicKey again = PublicKey.of(TEST_1_KEY.bytes());
    PublicKey other = PublicKey.fromHex(Ed25519VectorsTest.TEST_2.publicKey());
    assertThat(again).isEqualTo(TEST_1_KEY).hasSameHashCodeAs(TEST_1_KEY);
    assertThat(other).isNotEqualTo(TEST_1_KEY);
    assertThat(TEST_1_KEY.compareTo(again)).isZero();
    // 0xd7 > 0x3d as unsigned bytes.
    assertThat(TEST_1_KEY.compareTo(other)).isPositive();
    assertThat(PublicKey.fromHex(Ed25519VectorsTest.TEST_1.publicKey().toUpperCase())).isEqualTo(TEST_1_KEY);
  }

  @Test
  void bytesAreACopy() {
    byte[] raw = TEST_1_KEY.bytes().toByteArray();
    raw[0] ^= 1;
    assertThat(TEST_1_KEY.hex()).isEqualTo(Ed25519VectorsTest.TEST_1.publicKey());
  }

  @Test
  void malformedSignaturesAreFalseNotErrors() {
    Bytes message = Bytes.EMPTY;
    byte[] allOnes = new byte[64];
    java.util.Arrays.fill(allOnes, (byte) 0xFF);
    assertThat(TEST_1_KEY.verify(message, new Signature(Bytes.of(allOnes)))).isFalse();
    assertThat(TEST_1_KEY.verify(message, new Signature(Bytes.of(new byte[64])))).isFalse();
    // S replaced by the group order L: the same point arithmetic, but not a canonical scalar.
    Bytes good = Signature.fromHex(Ed25519VectorsTest.TEST_1.signature()).bytes();
    Bytes order = Bytes.fromHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    assertThat(TEST_1_KEY.verify(message, new Signature(good.slice(0, 32).concat(order)))).isFalse();
  }

  @Test
  void aStoredKeyIsTheSameKeyAndVerifiesAfterItsPointIsCheckedOnFirstUse() {
    // A key no one has validated in this JVM, so that the cache of validated keys has no copy.
    SigningKey signer = SigningKey.generate(new SplittableRandom(20261128));
    Bytes message = Bytes.utf8("transfer 1 from alice to bob");
    Signature signature = signer.sign(message);
    PublicKey stored = PublicKey.ofStored(signer.publicKey().bytes());
    assertThat(stored).isEqualTo(signer.publicKey()).hasSameHashCodeAs(signer.publicKey());
    assertThat(stored.verify(message, signature)).isTrue();
    assertThat(stored.verify(Bytes.utf8("transfer 2 from alice to bob"), signature)).isFalse();
    assertThat(stored.verify(message, signature)).as("again, with the point kept").isTrue();
    assertThat(PublicKey.ofStored(TEST_1_KEY.bytes())).isEqualTo(TEST_1_KEY);
    assertThat(PublicKey.ofStored(TEST_1_KEY.bytes()).verify(Bytes.EMPTY, Signature.fromHex(Ed25519VectorsTest.TEST_1.signature())))
        .as("RFC 8032 test 1").isTrue();
    assertThatThrownBy(() -> PublicKey.ofStored(Bytes.of(new byte[31])))
        .isInstanceOf(KeyFormatException.class).hasMessage("an Ed25519 public key has 32 bytes, not 31");
  }

  @Test
  void aStoredKeyThatIsNoValidPointVerifiesNothingWhileOfStillRefusesIt() {
    Bytes orderTwo = Bytes.fromHex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    PublicKey stored = PublicKey.ofStored(orderTwo);
    Signature any = Signature.fromHex(Ed25519VectorsTest.TEST_1.signature());
    assertThat(stored.verify(Bytes.EMPTY, any)).isFalse();
    assertThat(stored.verify(Bytes.EMPTY, any)).isFalse();
    assertThat(stored.bytes()).isEqualTo(orderTwo);
    assertThatThrownBy(() -> PublicKey.of(orderTwo)).isInstanceOf(KeyFormatException.class);
  }

  @Test
  void theStoredKeyCodecWritesTheSameBytesAndTypeAsTheValidatingOne() {
    SigningKey signer = SigningKey.generate(new SplittableRandom(7));
    Bytes encoded = CryptoCodecs.publicKey().encode(signer.publicKey());
    assertThat(CryptoCodecs.storedPublicKey().encode(signer.publicKey())).isEqualTo(encoded);
    assertThat(CryptoCodecs.storedPublicKey().decode(encoded)).isEqualTo(signer.publicKey());
    assertThat(CryptoCodecs.storedPublicKey().type()).isEqualTo(CryptoCodecs.publicKey().type());
  }

  @Test
  void signaturesHaveSixtyFourBytes() {
    assertThatThrownBy(() -> new Signature(Bytes.of(new byte[63])))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("an Ed25519 signature has 64 bytes, not 63");
    assertThatThrownBy(() -> Signature.fromHex("00"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("an Ed25519 signature is 128 hex digits, not 2");
    Signature signature = Signature.fromHex(Ed25519VectorsTest.TEST_1.signature());
    assertThat(signature).isEqualTo(Signature.fromHex(Ed25519VectorsTest.TEST_1.signature()));
    assertThat(signature.toString()).isEqualTo("Signature[" + Ed25519VectorsTest.TEST_1.signature() + "]");
  }
}
