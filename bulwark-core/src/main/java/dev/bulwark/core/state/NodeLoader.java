package dev.bulwark.core.state;

import dev.bulwark.core.Digest;

/**
 * Loads trie nodes, typically through the shared object cache over the store or a
 * transaction. A node that is referenced but not found, or that does not hash to its
 * reference, is corruption, not an empty answer.
 */
@FunctionalInterface
public interface NodeLoader {
  /** The node at {@code ref}. */
  StateNode load(NodeRef ref);

  /**
   * Where the root node with hash {@code root} is stored. A loader that finds nodes by hash
   * alone can leave the version unknown, which is what this default does.
   */
  default NodeRef root(Digest root) {
    return NodeRef.root(root, NodeRef.UNKNOWN_VERSION);
  }

  /**
   * Nodes down to this depth are linked from their parent node in memory once loaded or built,
   * so walks through the upper levels follow references instead of asking this loader. 0
   * links nothing. The memory it costs is up to 16^0 + ... + 16^depth nodes per tree whose
   * root stays in memory.
   */
  default int linkDepth() {
    return 0;
  }
}
