package dev.bulwark.core.crypto;

import dev.bulwark.core.Bytes;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Ed25519 keys as PEM text, in exactly the form {@code openssl genpkey -algorithm ed25519}
 * writes, so keys move between Bulwark and OpenSSL (and anything else that reads PKCS#8 and
 * SubjectPublicKeyInfo) unchanged:
 *
 * <ul>
 *   <li>{@code -----BEGIN PUBLIC KEY-----}: the 44-byte DER SubjectPublicKeyInfo of RFC 8410,
 *       the fixed header {@code 302a300506032b6570032100} then the 32 key bytes;
 *   <li>{@code -----BEGIN PRIVATE KEY-----}: the 48-byte DER PKCS#8 (version 1) PrivateKeyInfo,
 *       the fixed header {@code 302e020100300506032b657004220420} then the 32-byte seed.
 * </ul>
 *
 * <p>Because each is a fixed header plus the key, this is plain text handling, not an ASN.1
 * parser. Parsing is strict and every failure is a {@link KeyFormatException} with a one-line
 * message: the whole text (surrounding whitespace aside) must be one PEM block with the
 * expected label, base64 body lines, and exactly the header and length above. Not accepted:
 * encrypted keys, OpenSSH's format, PKCS#8 version 2 (with the public key inside), text
 * around the block. {@link #parsePublicKey(String)} also takes a bare 64-digit hex key, since
 * users paste keys.
 */
public final class KeyEncoding {
  private KeyEncoding() {}

  /** Longer text is not one small key, whatever else it is; refused before any work. */
  public static final int PEM_LENGTH_MAX = 4096;

  static final String PUBLIC_LABEL = "PUBLIC KEY";
  static final String PRIVATE_LABEL = "PRIVATE KEY";
  private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");
  private static final byte[] PKCS8_PREFIX = HexFormat.of().parseHex("302e020100300506032b657004220420");
  /** The DER of the Ed25519 algorithm identifier, OID 1.3.101.112. */
  private static final byte[] ED25519_OID = HexFormat.of().parseHex("06032b6570");
  private static final int LINE_LENGTH = 64;

  // ---------------------------------------------------------------- writing

  /** The SubjectPublicKeyInfo PEM of {@code key}, ending in a newline. */
  public static String publicKeyPem(PublicKey key) {
    return pem(PUBLIC_LABEL, concat(SPKI_PREFIX, key.bytes().unsafeArray()));
  }

  /**
   * The PKCS#8 PEM of {@code key}, ending in a newline. This is the secret in clear text:
   * write it only to a file only its owner can read (see {@code dev.bulwark.store.keys.KeyFiles}).
   */
  public static String privateKeyPem(SigningKey key) {
    byte[] seed = key.seedCopy();
    byte[] der = concat(PKCS8_PREFIX, seed);
    String pem = pem(PRIVATE_LABEL, der);
    Arrays.fill(seed, (byte) 0);
    Arrays.fill(der, (byte) 0);
    return pem;
  }

  private static String pem(String label, byte[] der) {
    String base64 = Base64.getEncoder().encodeToString(der);
    StringBuilder out = new StringBuilder(base64.length() + 80);
    out.append("-----BEGIN ").append(label).append("-----\n");
    for (int i = 0; i < base64.length(); i += LINE_LENGTH) {
      out.append(base64, i, Math.min(base64.length(), i + LINE_LENGTH)).append('\n');
    }
    out.append("-----END ").append(label).append("-----\n");
    return out.toString();
  }

  // ---------------------------------------------------------------- parsing

  /**
   * A public key from either a {@code PUBLIC KEY} PEM block or exactly 64 hex digits (either
   * case), surrounding whitespace ignored.
   */
  public static PublicKey parsePublicKey(String text) {
    String trimmed = text.strip();
    if (trimmed.startsWith("-----")) {
      return parsePublicKeyPem(trimmed);
    }
    if (trimmed.length() == 2 * PublicKey.LENGTH) {
      return PublicKey.fromHex(trimmed);
    }
    throw new KeyFormatException("public key: expected 64 hex digits or a '-----BEGIN " + PUBLIC_LABEL
        + "-----' PEM block, got " + trimmed.length() + " characters");
  }

  /** A public key from a {@code PUBLIC KEY} PEM block (SubjectPublicKeyInfo, Ed25519 only). */
  public static PublicKey parsePublicKeyPem(String text) {
    String what = "public key PEM";
    byte[] der = decodePem(what, PUBLIC_LABEL, text);
    if (!startsWith(der, SPKI_PREFIX)) {
      throw new KeyFormatException(what + ": " + notEd25519(der, "SubjectPublicKeyInfo")
          + " (DER starts " + HexFormat.of().formatHex(der, 0, Math.min(der.length, 12)) + ")");
    }
    checkLength(what, der, SPKI_PREFIX.length + PublicKey.LENGTH);
    try {
      return PublicKey.of(Bytes.of(der, SPKI_PREFIX.length, PublicKey.LENGTH));
    } catch (KeyFormatException e) {
      throw new KeyFormatException(what + ": " + e.getMessage());
    }
  }

  /** A private key from a {@code PRIVATE KEY} PEM block (unencrypted PKCS#8 v1, Ed25519 only). */
  public static SigningKey parsePrivateKeyPem(String text) {
    String what = "private key PEM";
    byte[] der = decodePem(what, PRIVATE_LABEL, text);
    try {
      // No DER bytes in these messages: past the header they are the secret.
      if (!startsWith(der, PKCS8_PREFIX)) {
        throw new KeyFormatException(what + ": " + notEd25519(der, "PKCS#8 private key"));
      }
      checkLength(what, der, PKCS8_PREFIX.length + SigningKey.SEED_LENGTH);
      return SigningKey.fromSeed(Bytes.of(der, PKCS8_PREFIX.length, SigningKey.SEED_LENGTH));
    } finally {
      Arrays.fill(der, (byte) 0);
    }
  }

  private static String notEd25519(byte[] der, String structure) {
    return indexOf(der, ED25519_OID) >= 0
        ? "an Ed25519 key in a DER layout other than the " + structure
            + " 'openssl genpkey -algorithm ed25519' writes (rewrite it with 'openssl pkey')"
        : "not an Ed25519 " + structure;
  }

  private static void checkLength(String what, byte[] der, int expected) {
    if (der.length != expected) {
      throw new KeyFormatException(what + ": wrong length: " + der.length + " bytes of DER, an Ed25519 key has " + expected);
    }
  }

  /** The DER inside the one PEM block that is {@code text}, checked as the class comment says. */
  private static byte[] decodePem(String what, String label, String text) {
    if (text.length() > PEM_LENGTH_MAX) {
      throw new KeyFormatException(what + ": " + text.length() + " characters, more than an Ed25519 key's PEM ("
          + PEM_LENGTH_MAX + " at most)");
    }
    String begin = "-----BEGIN " + label + "-----";
    String end = "-----END " + label + "-----";
    String[] lines = text.strip().split("\r?\n", -1);
    String first = lines[0].stripTrailing();
    if (!first.startsWith("-----BEGIN ")) {
      throw new KeyFormatException(what + ": missing the '" + begin + "' line at the start");
    }
    if (!first.equals(begin)) {
      throw new KeyFormatException(what + ": the first line is '" + first + "', expected '" + begin + "'"
          + labelHint(first));
    }
    String last = lines[lines.length - 1].stripTrailing();
    if (lines.length < 2 || !last.equals(end)) {
      throw new KeyFormatException(what + ": missing the '" + end + "' line at the end");
    }
    StringBuilder base64 = new StringBuilder();
    for (int i = 1; i < lines.length - 1; i++) {
      String line = lines[i].stripTrailing();
      if (line.startsWith("-----")) {
        throw new KeyFormatException(what + ": line " + (i + 1) + " starts another PEM block; expected exactly one");
      }
      if (line.contains(":")) {
        throw new KeyFormatException(what + ": line " + (i + 1) + " is a PEM header (encrypted or legacy format), not supported");
      }
      base64.append(line);
    }
    if (base64.isEmpty()) {
      throw new KeyFormatException(what + ": no base64 between the BEGIN and END lines");
    }
    byte[] der;
    try {
      der = Base64.getDecoder().decode(base64.toString());
    } catch (IllegalArgumentException e) {
      throw new KeyFormatException(what + ": bad base64: " + e.getMessage());
    }
    // The JDK decoder accepts missing padding and stray low bits; one text per key, so not here.
    if (!Base64.getEncoder().encodeToString(der).contentEquals(base64)) {
      Arrays.fill(der, (byte) 0);
      throw new KeyFormatException(what + ": bad base64: not in canonical form (missing '=' padding or nonzero spare bits)");
    }
    return der;
  }

  private static String labelHint(String firstLine) {
    if (firstLine.contains("ENCRYPTED")) {
      return " (encrypted keys are not supported: decrypt with 'openssl pkey -in KEY -out PLAIN')";
    }
    if (firstLine.contains("OPENSSH")) {
      return " (OpenSSH's key format is not supported)";
    }
    if (firstLine.contains(PRIVATE_LABEL)) {
      return " (this is a private key: keep it secret, and give its public key instead)";
    }
    return "";
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static boolean startsWith(byte[] bytes, byte[] prefix) {
    return bytes.length >= prefix.length && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
  }

  private static int indexOf(byte[] bytes, byte[] part) {
    for (int i = 0; i + part.length <= bytes.length; i++) {
      if (Arrays.equals(bytes, i, i + part.length, part, 0, part.length)) {
        return i;
      }
    }
    return -1;
  }
}
