package dev.bulwark.core.merkle;

import dev.bulwark.core.Digest;
import java.util.ArrayList;
import java.util.List;

/**
 * Tree heads and proofs for any size, following RFC 9162's recursive definitions (MTH, PATH,
 * SUBPROOF) over the stored complete subtrees of a {@link NodeSource}. Every range this
 * recursion visits starts at a multiple of its own rounded-up size, so each is either one
 * stored node or splits into a stored left node and a smaller right range: a root or a proof
 * costs O(log n) node reads.
 */
public final class MerkleProofs {
  private MerkleProofs() {}

  /** MTH(D[0:size]): the root of the first {@code size} leaves. */
  public static Digest root(NodeSource nodes, long size) {
    checkSize(size);
    return subtreeHash(nodes, 0, size);
  }

  /** PATH(index, D[0:size]). */
  public static InclusionProof inclusion(NodeSource nodes, long index, long size) {
    checkSize(size);
    if (index < 0 || index >= size) {
      throw new IllegalArgumentException("leaf " + index + " is not in a tree of " + size + " leaves");
    }
    List<Digest> path = new ArrayList<>(64);
    path(nodes, index, 0, size, path);
    return new InclusionProof(index, size, path);
  }

  /** PROOF(first, D[0:second]); empty when first is 0 or equals second. */
  public static ConsistencyProof consistency(NodeSource nodes, long first, long second) {
    checkSize(first);
    checkSize(second);
    if (first > second) {
      throw new IllegalArgumentException("consistency from " + first + " to a smaller tree of " + second);
    }
    List<Digest> path = new ArrayList<>(64);
    if (first > 0 && first < second) {
      subproof(nodes, first, 0, second, true, path);
    }
    return new ConsistencyProof(first, second, path);
  }

  private static void checkSize(long size) {
    if (size < 0) {
      throw new IllegalArgumentException("negative tree size " + size);
    }
  }

  static Digest subtreeHash(NodeSource nodes, long start, long size) {
    if (size == 0) {
      return MerkleHash.EMPTY_ROOT;
    }
    if (Long.bitCount(size) == 1) {
      int level = Long.numberOfTrailingZeros(size);
      return nodes.node(level, start >>> level);
    }
    long k = MerkleHash.splitPoint(size);
    return MerkleHash.node(subtreeHash(nodes, start, k), subtreeHash(nodes, start + k, size - k));
  }

  private static void path(NodeSource nodes, long m, long start, long n, List<Digest> out) {
    if (n == 1) {
      return;
    }
    long k = MerkleHash.splitPoint(n);
    if (m < k) {
      path(nodes, m, start, k, out);
      out.add(subtreeHash(nodes, start + k, n - k));
    } else {
      path(nodes, m - k, start + k, n - k, out);
      out.add(subtreeHash(nodes, start, k));
    }
  }

  private static void subproof(NodeSource nodes, long m, long start, long n, boolean complete, List<Digest> out) {
    if (m == n) {
      if (!complete) {
        out.add(subtreeHash(nodes, start, n));
      }
      return;
    }
    long k = MerkleHash.splitPoint(n);
    if (m <= k) {
      subproof(nodes, m, start, k, complete, out);
      out.add(subtreeHash(nodes, start + k, n - k));
    } else {
      subproof(nodes, m - k, start + k, n - k, false, out);
      out.add(subtreeHash(nodes, start, k));
    }
  }
}
