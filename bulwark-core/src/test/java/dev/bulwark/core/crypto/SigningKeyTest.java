package dev.bulwark.core.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import java.security.SecureRandom;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Generation from injected randomness, seeds, determinism, and that the secret never prints. */
class SigningKeyTest {
  @Test
  void theSameSeededRandomnessGivesTheSameKey() {
    SigningKey first = SigningKey.generate(new SplittableRandom(7));
    SigningKey second = SigningKey.generate(new SplittableRandom(7));
    SigningKey other = SigningKey.generate(new SplittableRandom(8));
    assertThat(second.publicKey()).isEqualTo(first.publicKey());
    assertThat(KeyEncoding.privateKeyPem(second)).isEqualTo(KeyEncoding.privateKeyPem(first));
    assertThat(other.publicKey()).isNotEqualTo(first.publicKey());
  }

  @Test
  void generateTakesTheSeedFromTheRandomness() {
    byte[] seed = new byte[32];
    new SplittableRandom(7).nextBytes(seed);
    assertThat(SigningKey.generate(new SplittableRandom(7)).publicKey())
        .isEqualTo(SigningKey.fromSeed(Bytes.of(seed)).publicKey());
  }

  @Test
  void generatesFromSecureRandom() {
    SigningKey key = SigningKey.generate(new SecureRandom());
    Bytes message = Bytes.utf8("hello");
    assertThat(key.publicKey().verify(message, key.sign(message))).isTrue();
  }

  @Test
  void seedsHaveThirtyTwoBytes() {
    assertThatThrownBy(() -> SigningKey.fromSeed(Bytes.of(new byte[31])))
        .isInstanceOf(KeyFormatException.class)
        .hasMessage("an Ed25519 private key seed has 32 bytes, not 31");
  }

  @Test
  void signingIsDeterministic() {
    SigningKey key = SigningKey.generate(new SplittableRandom(1));
    Bytes message = Bytes.utf8("same message");
    assertThat(key.sign(message)).isEqualTo(key.sign(message));
  }

  @Test
  void toStringShowsTheFingerprintAndNeverTheSeed() {
    Ed25519VectorsTest.Vector v = Ed25519VectorsTest.TEST_1;
    SigningKey key = v.signingKey();
    assertThat(key.toString()).isEqualTo("SigningKey[public 21fe:31df:a154:a261]");
    assertThat(key.toString()).doesNotContain(v.secret()).doesNotContain(v.secret().substring(0, 8));
  }

  @Test
  void signsAndVerifiesRandomMessages() {
    SplittableRandom random = new SplittableRandom(99);
    for (int i = 0; i < 50; i++) {
      SigningKey key = SigningKey.generate(random);
      byte[] raw = new byte[random.nextInt(0, 300)];
      random.nextBytes(raw);
      Bytes message = Bytes.of(raw);
      Signature signature = key.sign(message);
      assertThat(key.publicKey().verify(message, signature)).isTrue();
      assertThat(SigningKey.generate(random).publicKey().verify(message, signature)).isFalse();
    }
  }
}
