package dev.bulwark.core.merkle;

import dev.bulwark.core.Digest;

/**
 * Where proofs read the hashes of complete subtrees: node (level, index) is the root of the
 * 2^level leaves starting at index * 2^level. A log stores every such node once it is
 * complete, so any tree head or proof needs O(log n) reads and no leaf is rehashed.
 */
@FunctionalInterface
public interface NodeSource {
  /** The hash of a complete subtree; a missing one is corruption, not an empty answer. */
  Digest node(int level, long index);
}
