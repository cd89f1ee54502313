package dev.bulwark.core.merkle;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import java.security.MessageDigest;

/**
 * The hashes of RFC 9162 section 2.1.1 (Certificate Transparency v2): a leaf hash is
 * SHA-256(0x00 || leaf), an interior node SHA-256(0x01 || left || right), and the empty tree
 * SHA-256 of nothing. The prefixes keep a leaf from ever passing for a node.
 */
public final class MerkleHash {
  /** The root of the empty tree: SHA-256 of the empty string. */
  public static final Digest EMPTY_ROOT = Digest.sha256(new byte[0]);

  private MerkleHash() {}

  public static Digest leaf(Bytes leaf) {
    MessageDigest sha = Digest.threadSha256();
    sha.update((byte) 0x00);
    sha.update(leaf.unsafeArray());
    return Digest.finish(sha);
  }

  public static Digest node(Digest left, Digest right) {
    MessageDigest sha = Digest.threadSha256();
    sha.update((byte) 0x01);
    sha.update(left.unsafeArray());
    sha.update(right.unsafeArray());
    return Digest.finish(sha);
  }

  /** The largest power of two strictly less than {@code n}, for n at least 2 (RFC 9162's k). */
  static long splitPoint(long n) {
    if (n < 2) {
      throw new IllegalArgumentException("no split point below " + n);
    }
    return Long.highestOneBit(n - 1);
  }
}
