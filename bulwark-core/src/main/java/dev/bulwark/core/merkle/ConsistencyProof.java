package dev.bulwark.core.merkle;

import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import java.util.ArrayList;
import java.util.List;

/**
 * The consistency proof of RFC 9162 section 2.1.4: the hashes showing that the tree of
 * {@code secondSize} leaves extends the tree of {@code firstSize} leaves, so nothing the
 * first tree held was changed or dropped.
 */
public record ConsistencyProof(long firstSize, long secondSize, List<Digest> path) {
  /** RFC 9162's SUBPROOF has at most about two hashes per level. */
  public static final int PATH_MAX = 128;

  public static final Codec<ConsistencyProof> CODEC = Codecs.record("bulwark.ConsistencyProof",
      Codecs.field("firstSize", Codecs.varU64(), ConsistencyProof::firstSize),
      Codecs.field("secondSize", Codecs.varU64(), ConsistencyProof::secondSize),
      Codecs.field("path", Codecs.list(Codecs.digest()), ConsistencyProof::path),
      ConsistencyProof::new);

  public ConsistencyProof {
    if (firstSize < 0 || secondSize < 0 || firstSize > secondSize) {
      throw new IllegalArgumentException("consistency needs 0 <= first <= second: " + firstSize + ", " + secondSize);
    }
    if (path.size() > PATH_MAX) {
      throw new IllegalArgumentException("consistency path of " + path.size() + " hashes is longer than " + PATH_MAX);
    }
    path = List.copyOf(path);
  }

  /**
   * Whether the tree with root {@code secondRoot} and {@link #secondSize()} leaves extends the
   * tree with root {@code firstRoot} and {@link #firstSize()} leaves (RFC 9162 section 2.1.4.2;
   * the empty tree is extended by every tree, and equal sizes need equal roots and no path).
   */
  public boolean verify(Digest firstRoot, Digest secondRoot) {
    if (firstSize == 0) {
      return path.isEmpty() && firstRoot.equals(MerkleHash.EMPTY_ROOT);
    }
    if (firstSize == secondSize) {
      return path.isEmpty() && firstRoot.equals(secondRoot);
    }
    if (path.isEmpty()) {
      return false;
    }
    List<Digest> p = path;
    if (Long.bitCount(firstSize) == 1) {
      p = new ArrayList<>(path.size() + 1);
      p.add(firstRoot);
      p.addAll(path);
    }
    long fn = firstSize - 1;
    long sn = secondSize - 1;
    while ((fn & 1) == 1) {
      fn >>>= 1;
      sn >>>= 1;
    }
    Digest fr = p.getFirst();
    Digest sr = p.getFirst();
    for (int i = 1; i < p.size(); i++) {
      Digest c = p.get(i);
      if (sn == 0) {
        return false;
      }
      if ((fn & 1) == 1 || fn == sn) {
        fr = MerkleHash.node(c, fr);
        sr = MerkleHash.node(c, sr);
        if ((fn & 1) == 0) {
          while ((fn & 1) == 0 && fn != 0) {
            fn >>>= 1;
            sn >>>= 1;
          }
        }
      } else {
        sr = MerkleHash.node(sr, c);
      }
      fn >>>= 1;
      sn >>>= 1;
    }
    return fr.equals(firstRoot) && sr.equals(secondRoot) && sn == 0;
  }
}
