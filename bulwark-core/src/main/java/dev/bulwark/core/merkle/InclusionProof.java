package dev.bulwark.core.merkle;

import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import java.util.List;

/**
 * The audit path of RFC 9162 section 2.1.3: the sibling hashes from leaf {@code leafIndex}
 * up to the root of the tree of {@code treeSize} leaves, nearest first.
 */
public record InclusionProof(long leafIndex, long treeSize, List<Digest> path) {
  /** A path never has more hashes than a 2^64-leaf tree is deep. */
  public static final int PATH_MAX = 64;

  public static final Codec<InclusionProof> CODEC = Codecs.record("bulwark.InclusionProof",
      Codecs.field("leafIndex", Codecs.varU64(), InclusionProof::leafIndex),
      Codecs.field("treeSize", Codecs.varU64(), InclusionProof::treeSize),
      Codecs.field("path", Codecs.list(Codecs.digest()), InclusionProof::path),
      InclusionProof::new);

  public InclusionProof {
    if (leafIndex < 0 || treeSize < 0) {
      throw new IllegalArgumentException("leaf index and tree size are below 2^63: " + leafIndex + ", " + treeSize);
    }
    if (path.size() > PATH_MAX) {
      throw new IllegalArgumentException("inclusion path of " + path.size() + " hashes is longer than " + PATH_MAX);
    }
    path = List.copyOf(path);
  }

  /** Whether {@code leafHash} is leaf {@link #leafIndex()} of the tree whose root is {@code root}. */
  public boolean verify(Digest leafHash, Digest root) {
    Digest computed = rootFor(leafHash);
    return computed != null && computed.equals(root);
  }

  /**
   * The root this proof implies for {@code leafHash}, or {@code null} if the proof is
   * malformed for its index and size (RFC 9162 section 2.1.3.2).
   */
  public Digest rootFor(Digest leafHash) {
    if (leafIndex >= treeSize) {
      return null;
    }
    long fn = leafIndex;
    long sn = treeSize - 1;
    Digest r = leafHash;
    for (Digest p : path) {
      if (sn == 0) {
        return null;
      }
      if ((fn & 1) == 1 || fn == sn) {
        r = MerkleHash.node(p, r);
        if ((fn & 1) == 0) {
          while ((fn & 1) == 0 && fn != 0) {
            fn >>>= 1;
            sn >>>= 1;
          }
        }
      } else {
        r = MerkleHash.node(r, p);
      }
      fn >>>= 1;
      sn >>>= 1;
    }
    return sn == 0 ? r : null;
  }
}
