package dev.bulwark.core.state;

import dev.bulwark.core.Digest;

/**
 * Loads trie nodes by hash, typically through the shared object cache over the store or a
 * transaction. A hash that is referenced but not found is corruption, not an empty answer.
 */
@FunctionalInterface
public interface NodeLoader {
  StateNode load(Digest hash);
}
