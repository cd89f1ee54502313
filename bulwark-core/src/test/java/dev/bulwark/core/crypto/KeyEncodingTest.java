package dev.bulwark.core.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import java.util.Base64;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * PEM writing matches OpenSSL byte for byte, parsing round-trips, and every way a pasted or
 * stored key can be wrong gets its own one-line message.
 */
class KeyEncodingTest {
  /** What OpenSSL 3.0 writes for the RFC 8032 TEST 1 seed ({@code openssl pkey} of the PKCS#8 DER). */
  private static final String TEST_1_PRIVATE_PEM = """
      -----BEGIN PRIVATE KEY-----
      MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
      -----END PRIVATE KEY-----
      """;

  /** {@code openssl pkey -in TEST_1_PRIVATE_PEM -pubout}. */
  private static final String TEST_1_PUBLIC_PEM = """
      -----BEGIN PUBLIC KEY-----
      MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=
      -----END PUBLIC KEY-----
      """;

  /** An X25519 public key from {@code openssl genpkey -algorithm x25519}: the right shape, another algorithm. */
  private static final String X25519_PUBLIC_PEM = """
      -----BEGIN PUBLIC KEY-----
      MCowBQYDK2VuAyEA39dKoMQ8SRiCh45G2vL9sb0/J15zSGMuGGDculGtOBo=
      -----END PUBLIC KEY-----
      """;

  private static final String X25519_PRIVATE_PEM = """
      -----BEGIN PRIVATE KEY-----
      MC4CAQAwBQYDK2VuBCIEIPjDPFoGZGvncM/BsZRZMcFoWn2jOkLWaz+haq9Bvo1S
      -----END PRIVATE KEY-----
      """;

  private static final String P256_PUBLIC_PEM = """
      -----BEGIN PUBLIC KEY-----
      MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEtehxeLPK1slV3R/QUwTamUrqMaxL
      tHvpaUbVfaCS2OK+0236BI6vm9GxUL9ewCjv+wbTiy53TNVkB4G1qUwmpw==
      -----END PUBLIC KEY-----
      """;

  private static final SigningKey TEST_1 = Ed25519VectorsTest.TEST_1.signingKey();

  // ---------------------------------------------------------------- writing and round trips

  @Test
  void writesExactlyWhatOpensslWrites() {
    assertThat(KeyEncoding.privateKeyPem(TEST_1)).isEqualTo(TEST_1_PRIVATE_PEM);
    assertThat(KeyEncoding.publicKeyPem(TEST_1.publicKey())).isEqualTo(TEST_1_PUBLIC_PEM);
  }

  @Test
  void readsWhatOpensslWrites() {
    assertThat(KeyEncoding.parsePrivateKeyPem(TEST_1_PRIVATE_PEM).publicKey()).isEqualTo(TEST_1.publicKey());
    assertThat(KeyEncoding.parsePublicKeyPem(TEST_1_PUBLIC_PEM)).isEqualTo(TEST_1.publicKey());
  }

  @Test
  void roundTripsRandomKeys() {
    SplittableRandom random = new SplittableRandom(11);
    for (int i = 0; i < 100; i++) {
      SigningKey key = SigningKey.generate(random);
      String privatePem = KeyEncoding.privateKeyPem(key);
      SigningKey back = KeyEncoding.parsePrivateKeyPem(privatePem);
      assertThat(back.publicKey()).isEqualTo(key.publicKey());
      assertThat(KeyEncoding.privateKeyPem(back)).isEqualTo(privatePem);
      Bytes message = Bytes.of((byte) i);
      assertThat(back.sign(message)).isEqualTo(key.sign(message));
      assertThat(KeyEncoding.parsePublicKeyPem(KeyEncoding.publicKeyPem(key.publicKey()))).isEqualTo(key.publicKey());
      assertThat(KeyEncoding.parsePublicKey(KeyEncoding.publicKeyPem(key.publicKey()))).isEqualTo(key.publicKey());
    }
  }

  @Test
  void toleratesCrlfAndSurroundingWhitespace() {
    String crlf = "\n  " + TEST_1_PUBLIC_PEM.replace("\n", "\r\n") + "\n\n";
    assertThat(KeyEncoding.parsePublicKeyPem(crlf)).isEqualTo(TEST_1.publicKey());
    String noFinalNewline = TEST_1_PRIVATE_PEM.strip();
    assertThat(KeyEncoding.parsePrivateKeyPem(noFinalNewline).publicKey()).isEqualTo(TEST_1.publicKey());
  }

  @Test
  void parsePublicKeyAlsoTakesBareHex() {
    String hex = Ed25519VectorsTest.TEST_1.publicKey();
    assertThat(KeyEncoding.parsePublicKey(hex)).isEqualTo(TEST_1.publicKey());
    assertThat(KeyEncoding.parsePublicKey("  " + hex.toUpperCase() + "\n")).isEqualTo(TEST_1.publicKey());
    assertThatThrownBy(() -> KeyEncoding.parsePublicKey(hex.substring(2)))
        .isInstanceOf(KeyFormatException.class)
        .hasMessage("public key: expected 64 hex digits or a '-----BEGIN PUBLIC KEY-----' PEM block, got 62 characters");
    assertThatThrownBy(() -> KeyEncoding.parsePublicKey("g" + hex.substring(1)))
        .isInstanceOf(KeyFormatException.class)
        .hasMessageStartingWith("an Ed25519 public key in hex has only the digits 0-9 and a-f");
    // The strict PEM parser does not take hex.
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem(hex))
        .isInstanceOf(KeyFormatException.class)
        .hasMessage("public key PEM: missing the '-----BEGIN PUBLIC KEY-----' line at the start");
  }

  // ---------------------------------------------------------------- errors

  @Test
  void missingBeginOrEndLine() {
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem(""))
        .isInstanceOf(KeyFormatException.class)
        .hasMessage("public key PEM: missing the '-----BEGIN PUBLIC KEY-----' line at the start");
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem("a comment\n" + TEST_1_PUBLIC_PEM))
        .hasMessage("public key PEM: missing the '-----BEGIN PUBLIC KEY-----' line at the start");
    String noEnd = TEST_1_PUBLIC_PEM.substring(0, TEST_1_PUBLIC_PEM.indexOf("-----END"));
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem(noEnd))
        .isInstanceOf(KeyFormatException.class)
        .hasMessage("public key PEM: missing the '-----END PUBLIC KEY-----' line at the end");
    assertThatThrownBy(() -> KeyEncoding.parsePrivateKeyPem("-----BEGIN PRIVATE KEY-----"))
        .hasMessage("private key PEM: missing the '-----END PRIVATE KEY-----' line at the end");
    assertThatThrownBy(() -> KeyEncoding.parsePrivateKeyPem(TEST_1_PRIVATE_PEM + "trailing text\n"))
        .hasMessage("private key PEM: missing the '-----END PRIVATE KEY-----' line at the end");
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem(TEST_1_PUBLIC_PEM + TEST_1_PUBLIC_PEM))
        .hasMessage("public key PEM: line 3 starts another PEM block; expected exactly one");
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"))
        .hasMessage("public key PEM: no base64 between the BEGIN and END lines");
  }

  @Test
  void wrongLabel() {
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem(TEST_1_PRIVATE_PEM))
        .isInstanceOf(KeyFormatException.class)
        .hasMessage("public key PEM: the first line is '-----BEGIN PRIVATE KEY-----', expected '-----BEGIN PUBLIC KEY-----'"
            + " (this is a private key: keep it secret, and give its public key instead)");
    assertThatThrownBy(() -> KeyEncoding.parsePrivateKeyPem(TEST_1_PUBLIC_PEM))
        .hasMessage("private key PEM: the first line is '-----BEGIN PUBLIC KEY-----', expected '-----BEGIN PRIVATE KEY-----'");
    assertThatThrownBy(() -> KeyEncoding.parsePrivateKeyPem(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"))
        .hasMessageContaining("encrypted keys are not supported");
    assertThatThrownBy(() -> KeyEncoding.parsePrivateKeyPem(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"))
        .hasMessageContaining("OpenSSH's key format is not supported");
    // A matching BEGIN with a different END.
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem(TEST_1_PUBLIC_PEM.replace("END PUBLIC", "END PRIVATE")))
        .hasMessage("public key PEM: missing the '-----END PUBLIC KEY-----' line at the end");
  }

  @Test
  void badBase64() {
    String bad = TEST_1_PUBLIC_PEM.replace("MCow", "MC*w");
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem(bad))
        .isInstanceOf(KeyFormatException.class)
        .hasMessageStartingWith("public key PEM: bad base64: ");
    String unpadded = TEST_1_PUBLIC_PEM.replace("URo=", "URo");
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem(unpadded))
        .hasMessage("public key PEM: bad base64: not in canonical form (missing '=' padding or nonzero spare bits)");
    String spareBits = TEST_1_PUBLIC_PEM.replace("URo=", "URp=");
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem(spareBits))
        .hasMessage("public key PEM: bad base64: not in canonical form (missing '=' padding or nonzero spare bits)");
    String header = TEST_1_PRIVATE_PEM.replace("-----\nMC4", "-----\nProc-Type: 4,ENCRYPTED\nMC4");
    assertThatThrownBy(() -> KeyEncoding.parsePrivateKeyPem(header))
        .hasMessage("private key PEM: line 2 is a PEM header (encrypted or legacy format), not supported");
  }

  @Test
  void notEd25519() {
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem(X25519_PUBLIC_PEM))
        .isInstanceOf(KeyFormatException.class)
        .hasMessage("public key PEM: not an Ed25519 SubjectPublicKeyInfo (DER starts 302a300506032b656e032100)");
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem(P256_PUBLIC_PEM))
        .hasMessage("public key PEM: not an Ed25519 SubjectPublicKeyInfo (DER starts 3059301306072a8648ce3d02)");
    assertThatThrownBy(() -> KeyEncoding.parsePrivateKeyPem(X25519_PRIVATE_PEM))
        .hasMessage("private key PEM: not an Ed25519 PKCS#8 private key");
  }

  @Test
  void ed25519InAnotherLayout() {
    // PKCS#8 version 2 (RFC 8410 OneAsymmetricKey) with the public key appended as [1].
    String der = "3051020101300506032b657004220420" + Ed25519VectorsTest.TEST_1.secret()
        + "812100" + Ed25519VectorsTest.TEST_1.publicKey();
    String pem = pem("PRIVATE KEY", HexFormat.of().parseHex(der));
    assertThatThrownBy(() -> KeyEncoding.parsePrivateKeyPem(pem))
        .isInstanceOf(KeyFormatException.class)
        .hasMessage("private key PEM: an Ed25519 key in a DER layout other than the PKCS#8 private key"
            + " 'openssl genpkey -algorithm ed25519' writes (rewrite it with 'openssl pkey')")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(Ed25519VectorsTest.TEST_1.secret().substring(0, 8)));
  }

  @Test
  void wrongLength() {
    String shortKey = pem("PUBLIC KEY", HexFormat.of().parseHex("302a300506032b6570032100" + "00".repeat(31)));
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem(shortKey))
        .isInstanceOf(KeyFormatException.class)
        .hasMessage("public key PEM: wrong length: 43 bytes of DER, an Ed25519 key has 44");
    String longSeed = pem("PRIVATE KEY", HexFormat.of().parseHex("302e020100300506032b657004220420" + "00".repeat(33)));
    assertThatThrownBy(() -> KeyEncoding.parsePrivateKeyPem(longSeed))
        .hasMessage("private key PEM: wrong length: 49 bytes of DER, an Ed25519 key has 48");
  }

  @Test
  void notAValidPoint() {
    byte[] identity = new byte[32];
    identity[0] = 1;
    String pem = pem("PUBLIC KEY", HexFormat.of().parseHex("302a300506032b6570032100" + HexFormat.of().formatHex(identity)));
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem(pem))
        .isInstanceOf(KeyFormatException.class)
        .hasMessageStartingWith("public key PEM: not a valid Ed25519 public key: ");
  }

  @Test
  void refusesHugeInputBeforeParsing() {
    String huge = TEST_1_PUBLIC_PEM + " ".repeat(KeyEncoding.PEM_LENGTH_MAX);
    assertThatThrownBy(() -> KeyEncoding.parsePublicKeyPem(huge))
        .isInstanceOf(KeyFormatException.class)
        .hasMessageContaining("more than an Ed25519 key's PEM");
  }

  private static String pem(String label, byte[] der) {
    return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + label + "-----\n";
  }
}
