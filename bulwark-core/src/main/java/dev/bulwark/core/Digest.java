package dev.bulwark.core;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/** A SHA-256 digest: 32 bytes, immutable, ordered like the bytes it holds. */
public final class Digest implements Comparable<Digest> {
  public static final int LENGTH = 32;
  private static final HexFormat HEX = HexFormat.of();
  private static final MessageDigest SHA256_PROTOTYPE = lookUpSha256();

  private final byte[] bytes;

  private Digest(byte[] bytes) {
    this.bytes = bytes;
  }

  /** Wraps a copy of exactly 32 bytes. */
  public static Digest of(byte[] bytes) {
    if (bytes.length != LENGTH) {
      throw new IllegalArgumentException("a digest has 32 bytes, not " + bytes.length);
    }
    return new Digest(bytes.clone());
  }

  public static Digest of(Bytes bytes) {
    return of(bytes.unsafeArray());
  }

  public static Digest fromHex(String hex) {
    return of(HEX.parseHex(hex));
  }

  /**
   * One SHA-256 engine per thread for the one-shot hashes below: cloning the prototype for
   * every hash made an engine and its buffers per trie node, log node and key hashed.
   */
  private static final ThreadLocal<MessageDigest> ENGINE = ThreadLocal.withInitial(Digest::newSha256);

  /** This thread's SHA-256 engine, reset: for a hash made and finished in one call, never held across calls. */
  public static MessageDigest threadSha256() {
    MessageDigest engine = ENGINE.get();
    engine.reset();
    return engine;
  }

  /** SHA-256 of {@code data}. */
  public static Digest sha256(byte[] data) {
    return new Digest(threadSha256().digest(data));
  }

  public static Digest sha256(Bytes data) {
    return sha256(data.unsafeArray());
  }

  /**
   * A fresh SHA-256 engine. Cloning a prototype skips the provider lookup of
   * {@code MessageDigest.getInstance}, about a third of the cost of hashing a small record.
   */
  public static MessageDigest newSha256() {
    try {
      return (MessageDigest) SHA256_PROTOTYPE.clone();
    } catch (CloneNotSupportedException e) {
      return lookUpSha256();
    }
  }

  /** Every JDK has SHA-256, so its absence is a broken runtime. */
  private static MessageDigest lookUpSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this Java runtime has no SHA-256", e);
    }
  }

  /** Wraps the output of a SHA-256 engine without copying (it is freshly allocated). */
  public static Digest finish(MessageDigest sha256) {
    byte[] out = sha256.digest();
    if (out.length != LENGTH) {
      throw new IllegalStateException("SHA-256 produced " + out.length + " bytes");
    }
    return new Digest(out);
  }

  public Bytes bytes() {
    return Bytes.adopt(bytes.clone());
  }

  /** The backing array, shared: read it, never write it. */
  public byte[] unsafeArray() {
    return bytes;
  }

  public String hex() {
    return HEX.formatHex(bytes);
  }

  /** The first 8 bytes in hex: enough to tell digests apart on a screen. */
  public String shortHex() {
    return HEX.formatHex(bytes, 0, 8);
  }

  @Override
  public int compareTo(Digest other) {
    return Arrays.compareUnsigned(bytes, other.bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Digest other && Arrays.equals(bytes, other.bytes);
  }

  @Override
  public int hashCode() {
    // The bytes are uniformly random already.
    return (bytes[0] & 0xFF) << 24 | (bytes[1] & 0xFF) << 16 | (bytes[2] & 0xFF) << 8 | (bytes[3] & 0xFF);
  }

  @Override
  public String toString() {
    return hex();
  }
}
