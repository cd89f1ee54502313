package dev.bulwark.core.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The signed-message layout and that a signature for one domain is worthless in another. */
class SignatureDomainTest {
  private static final SignatureDomain RECEIPT = new SignatureDomain("bulwark/receipt/v1");
  private static final SignatureDomain HEAD = new SignatureDomain("bulwark/head/v1");

  @Test
  void messageIsTagZeroPayload() {
    assertThat(new SignatureDomain("ab").message(Bytes.fromHex("0102")))
        .isEqualTo(Bytes.fromHex("6162000102"));
    assertThat(new SignatureDomain("ab").message(Bytes.EMPTY)).isEqualTo(Bytes.fromHex("616200"));
  }

  @Test
  void aSignatureInOneDomainDoesNotVerifyInAnother() {
    SigningKey key = SigningKey.generate(new SplittableRandom(3));
    Bytes payload = Bytes.utf8("payload");
    Signature signature = key.sign(RECEIPT, payload);
    assertThat(key.publicKey().verify(RECEIPT, payload, signature)).isTrue();
    assertThat(key.publicKey().verify(HEAD, payload, signature)).isFalse();
    assertThat(key.publicKey().verify(payload, signature)).isFalse();
    assertThat(signature).isEqualTo(key.sign(RECEIPT.message(payload)));
  }

  /** "a" + 0 + "b\0c" and "a\0b" + 0 + "c" would collide if tags could hold 0x00; they cannot. */
  @Test
  void tagsArePrintableAsciiWithinTheLimit() {
    for (String bad : new String[] {"", "a\0b", "with space", "tab\t", "é", "x".repeat(65)}) {
      assertThatThrownBy(() -> new SignatureDomain(bad)).isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(new SignatureDomain("x".repeat(64)).tag()).hasSize(64);
    assertThatThrownBy(() -> new SignatureDomain("a b"))
        .hasMessage("a signature domain tag is printable ASCII without spaces; 'a b' has character 32 at index 1");
  }
}
