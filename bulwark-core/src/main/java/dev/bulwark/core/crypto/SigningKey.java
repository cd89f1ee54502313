package dev.bulwark.core.crypto;

import dev.bulwark.core.Bytes;
import java.util.Objects;
import java.util.random.RandomGenerator;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * An Ed25519 private key: the 32-byte secret seed of RFC 8032 and the public key derived from
 * it once at construction. Signing is pure Ed25519 (no context, no prehash) through
 * BouncyCastle's {@code rfc8032.Ed25519}, about 20 times the JDK provider's speed, and is
 * deterministic: the same key and message always give the same signature.
 *
 * <p>Immutable and thread-safe. {@link #toString()} shows only the public fingerprint; the
 * seed leaves this package only through {@link KeyEncoding#privateKeyPem(SigningKey)}.
 * Identity equality on purpose: secrets are not compared or hashed into collections.
 */
public final class SigningKey {
  public static final int SEED_LENGTH = 32;

  private final byte[] seed;
  private final byte[] publicKeyBytes;
  private final PublicKey publicKey;

  private SigningKey(byte[] seed) {
    this.seed = seed;
    Ed25519.PublicPoint point = Ed25519.generatePublicKey(seed, 0);
    byte[] encoded = new byte[PublicKey.LENGTH];
    Ed25519.encodePublicPoint(point, encoded, 0);
    this.publicKeyBytes = encoded;
    this.publicKey = new PublicKey(encoded.clone(), point);
  }

  /**
   * A fresh key from 32 bytes of {@code random}. Outside tests this must be a
   * {@link java.security.SecureRandom}; tests and the simulator pass a seeded generator so
   * that their keys repeat from run to run.
   */
  public static SigningKey generate(RandomGenerator random) {
    byte[] seed = new byte[SEED_LENGTH];
    random.nextBytes(seed);
    return new SigningKey(seed);
  }

  /**
   * The key whose RFC 8032 secret key is {@code seed}; every 32-byte string is one.
   *
   * @throws KeyFormatException (an IllegalArgumentException) if it is not 32 bytes
   */
  public static SigningKey fromSeed(Bytes seed) {
    if (seed.length() != SEED_LENGTH) {
      throw new KeyFormatException("an Ed25519 private key seed has 32 bytes, not " + seed.length());
    }
    return new SigningKey(seed.toByteArray());
  }

  public PublicKey publicKey() {
    return publicKey;
  }

  /** The Ed25519 signature of exactly {@code message}; prefer the domain-separated overload. */
  public Signature sign(Bytes message) {
    Objects.requireNonNull(message, "message");
    byte[] m = message.unsafeArray();
    byte[] signature = new byte[Signature.LENGTH];
    // Passing the public key saves re-deriving it (a scalar multiplication) per signature.
    Ed25519.sign(seed, 0, publicKeyBytes, 0, m, 0, m.length, signature, 0);
    return new Signature(Bytes.adopt(signature));
  }

  /** Signs {@code domain.message(payload)}: the payload as one kind of thing, see {@link SignatureDomain}. */
  public Signature sign(SignatureDomain domain, Bytes payload) {
    return sign(domain.message(payload));
  }

  /** A copy of the secret seed, for {@link KeyEncoding} only. */
  byte[] seedCopy() {
    return seed.clone();
  }

  /** Never the secret: {@code SigningKey[public <fingerprint>]}. */
  @Override
  public String toString() {
    return "SigningKey[public " + publicKey.fingerprint() + "]";
  }
}
