package dev.bulwark.core.merkle;

import dev.bulwark.core.Digest;
import java.util.List;

/**
 * A log's size and its frontier: the roots of the complete subtrees that make up the tree,
 * largest (leftmost) first, one per set bit of {@code size}. Enough to compute the tree head
 * and to append, without reading the store.
 */
public record MerkleLogState(long size, List<Digest> frontier) {
  public static final MerkleLogState EMPTY = new MerkleLogState(0, List.of());

  public MerkleLogState {
    frontier = List.copyOf(frontier);
    if (size < 0 || frontier.size() != Long.bitCount(size)) {
      throw new IllegalArgumentException("a log of " + size + " leaves has " + Long.bitCount(size)
          + " frontier subtrees, not " + frontier.size());
    }
  }

  /** The tree head: the frontier folded from the right. */
  public Digest root() {
    if (size == 0) {
      return MerkleHash.EMPTY_ROOT;
    }
    Digest r = frontier.getLast();
    for (int i = frontier.size() - 2; i >= 0; i--) {
      r = MerkleHash.node(frontier.get(i), r);
    }
    return r;
  }
}
