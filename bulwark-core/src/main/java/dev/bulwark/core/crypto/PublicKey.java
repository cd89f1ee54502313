package dev.bulwark.core.crypto;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * An Ed25519 public key (RFC 8032): 32 bytes, immutable, equal when the bytes are equal and
 * ordered like them.
 *
 * <p><b>Validated on construction.</b> {@link #of(Bytes)} accepts only the encoding of a point
 * in the curve's prime-order subgroup ({@code Ed25519.validatePublicKeyFull}): a wrong length,
 * a non-canonical encoding, a value that is not on the curve, and a small-order or mixed-order
 * point are all rejected there with a {@link KeyFormatException}. Every honestly generated key
 * passes; rejecting the rest early means a pasted or stored key that is wrong is reported as a
 * bad key, not later as "signature invalid", and weak keys for which one signature can verify
 * for several messages never get in. The check costs about as much as half a verification, once
 * per key object; the decoded point is kept, so {@link #verify} does not decode it again.
 *
 * <p><b>Keys read back from state are not checked again.</b> {@link #ofStored} takes a key that
 * was validated when it entered the system (an account's owner, checked when the request that
 * opened the account was decoded) and defers decoding its point to its first verification. A
 * ledger decodes an owner key with every account read, mostly only to compare it with a
 * request's signer; with more owners than the cache of validated keys holds, each read paid
 * the full check again.
 */
public final class PublicKey implements Comparable<PublicKey> {
  public static final int LENGTH = 32;
  private static final HexFormat HEX = HexFormat.of();

  private final byte[] bytes;
  /**
   * The decoded, validated form of {@link #bytes}; for a key made by {@link #ofStored}, null
   * until its first verification (and {@link #invalidPoint} set if it then fails to validate).
   */
  private volatile Ed25519.PublicPoint point;
  private volatile boolean invalidPoint;

  /** Trusted: {@code point} is the decoded, validated form of {@code bytes}, or null to decode it when first needed. */
  PublicKey(byte[] bytes, Ed25519.PublicPoint point) {
    this.bytes = bytes;
    this.point = point;
  }

  /**
   * A key read back from storage that it entered only through {@link #of} (an account's owner
   * in the replicated state, say): the length is checked, the point is decoded and validated
   * at its first verification, where an invalid one verifies nothing. Untrusted input goes
   * through {@link #of}.
   *
   * @throws KeyFormatException if it is not 32 bytes
   */
  public static PublicKey ofStored(Bytes bytes) {
    requireLength(bytes);
    // Not looked up among the validated keys: most stored keys are only compared, and a new
    // object with its point still to decode is cheaper than the lookup.
    return new PublicKey(bytes.toByteArray(), null);
  }

  private static void requireLength(Bytes bytes) {
    if (bytes.length() != LENGTH) {
      throw new KeyFormatException("an Ed25519 public key has 32 bytes, not " + bytes.length());
    }
  }

  /** The validated point, decoded now if this key was made by {@link #ofStored}; null if it is not valid. */
  private Ed25519.PublicPoint point() {
    Ed25519.PublicPoint p = point;
    if (p == null && !invalidPoint) {
      p = Ed25519.validatePublicKeyFullExport(bytes.clone(), 0);
      if (p == null) {
        invalidPoint = true;
      } else {
        point = p;
      }
    }
    return p;
  }

  /**
   * The key encoded by {@code bytes}.
   *
   * @throws KeyFormatException (an IllegalArgumentException) if it is not 32 bytes or not a
   *     valid Ed25519 public point
   */
  public static PublicKey of(Bytes bytes) {
    requireLength(bytes);
    PublicKey known = VALIDATED.get(bytes);
    if (known != null) {
      return known;
    }
    byte[] copy = bytes.toByteArray();
    Ed25519.PublicPoint point = Ed25519.validatePublicKeyFullExport(copy, 0);
    if (point == null) {
      throw new KeyFormatException("not a valid Ed25519 public key: " + bytes.hex()
          + " does not encode a point of the curve's prime-order subgroup");
    }
    PublicKey key = new PublicKey(copy, point);
    if (VALIDATED.size() >= VALIDATED_MAX) {
      VALIDATED.clear(); // crude, but bounded: hot keys come back at once
    }
    VALIDATED.put(Bytes.adopt(copy), key);
    return key;
  }

  /**
   * Keys validated recently. A ledger decodes the same few owner keys with every account read,
   * and the full point check costs about half a verification; keys are immutable, so a key
   * validated once is valid forever.
   */
  private static final java.util.concurrent.ConcurrentHashMap<Bytes, PublicKey> VALIDATED =
      new java.util.concurrent.ConcurrentHashMap<>();
  private static final int VALIDATED_MAX = 1 << 16;

  /** Parses exactly 64 hex digits (either case), then validates as {@link #of(Bytes)} does. */
  public static PublicKey fromHex(String hex) {
    if (hex.length() != 2 * LENGTH) {
      throw new KeyFormatException("an Ed25519 public key is 64 hex digits, not " + hex.length());
    }
    byte[] raw;
    try {
      raw = HEX.parseHex(hex);
    } catch (IllegalArgumentException e) {
      throw new KeyFormatException("an Ed25519 public key in hex has only the digits 0-9 and a-f: " + e.getMessage());
    }
    return of(Bytes.adopt(raw));
  }

  public Bytes bytes() {
    return Bytes.of(bytes);
  }

  public String hex() {
    return HEX.formatHex(bytes);
  }

  /**
   * A short form for people to compare keys by eye: the first 8 bytes of SHA-256 over the 32
   * key bytes, as 16 lowercase hex digits in four groups of four joined by ':', for example
   * {@code 21fe:31df:a154:a261}. 64 bits tell keys apart on a screen; they are not a security
   * boundary, so compare whole keys ({@link #equals}) in code.
   */
  public String fingerprint() {
    String hex = HEX.formatHex(Digest.sha256(bytes).unsafeArray(), 0, 8);
    return hex.substring(0, 4) + ':' + hex.substring(4, 8) + ':' + hex.substring(8, 12) + ':' + hex.substring(12, 16);
  }

  /**
   * Whether {@code signature} is this key's pure Ed25519 signature (no context, no prehash)
   * of {@code message}. A malformed signature (an R that is no point, an S not below the group
   * order) is simply false.
   */
  public boolean verify(Bytes message, Signature signature) {
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(signature, "signature");
    byte[] m = message.unsafeArray();
    try {
      Ed25519.PublicPoint p = point();
      return p != null && Ed25519.verify(signature.bytes().unsafeArray(), 0, p, m, 0, m.length);
    } catch (IllegalArgumentException | ArithmeticException e) {
      // BouncyCastle reports malformed inputs as false; this guards a future version that throws.
      return false;
    }
  }

  /** Verifies a signature made with {@link SigningKey#sign(SignatureDomain, Bytes)}. */
  public boolean verify(SignatureDomain domain, Bytes payload, Signature signature) {
    return verify(domain.message(payload), signature);
  }

  @Override
  public int compareTo(PublicKey other) {
    return Arrays.compareUnsigned(bytes, other.bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PublicKey other && Arrays.equals(bytes, other.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  /** {@code PublicKey[<fingerprint>]}; use {@link #hex()} for the whole key. */
  @Override
  public String toString() {
    return "PublicKey[" + fingerprint() + "]";
  }
}
