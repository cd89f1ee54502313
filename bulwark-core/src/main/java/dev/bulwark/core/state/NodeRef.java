package dev.bulwark.core.state;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import java.util.Objects;

/**
 * Where a trie node is stored, and the hash it must have: the version that wrote it and its
 * path from the root (the first {@code depth} nibbles of the key hashes below it, packed two
 * to a byte, an odd last nibble in the high half). Nodes are stored under (version, path), not
 * under their hash: a version's new nodes then share one key prefix, so the store takes them
 * as one in-order run, and no node key is ever written twice, so a node that falls out of the
 * tree can be deleted without asking whether a later version brought the same bytes back.
 *
 * @param version the version that wrote the node, or {@link #UNKNOWN_VERSION} for a loader that
 *     finds nodes by hash alone
 */
public record NodeRef(Digest hash, long version, int depth, Bytes path) {
  public static final long UNKNOWN_VERSION = -1;

  public NodeRef {
    Objects.requireNonNull(hash);
    Objects.requireNonNull(path);
    if (depth < 0 || depth > StateTrie.DEPTH_MAX || path.length() != (depth + 1) / 2) {
      throw new IllegalArgumentException("a path of " + depth + " nibbles has " + (depth + 1) / 2 + " bytes, not "
          + path.length());
    }
  }

  /** The root node with this hash, stored by {@code version}. */
  public static NodeRef root(Digest hash, long version) {
    return new NodeRef(hash, version, 0, Bytes.EMPTY);
  }

  /** The first {@code depth} nibbles of {@code keyHash}, packed. */
  public static Bytes pathOf(Digest keyHash, int depth) {
    if (depth == 0) {
      return Bytes.EMPTY;
    }
    byte[] out = new byte[(depth + 1) / 2];
    System.arraycopy(keyHash.unsafeArray(), 0, out, 0, out.length);
    if ((depth & 1) == 1) {
      out[out.length - 1] &= (byte) 0xF0;
    }
    return Bytes.adopt(out);
  }

  /** The path of child {@code nibble} of the node at {@code parentPath}, {@code parentDepth} nibbles long. */
  public static Bytes childPath(Bytes parentPath, int parentDepth, int nibble) {
    byte[] parent = parentPath.unsafeArray();
    byte[] out = new byte[(parentDepth + 2) / 2];
    System.arraycopy(parent, 0, out, 0, parent.length);
    if ((parentDepth & 1) == 0) {
      out[out.length - 1] = (byte) (nibble << 4);
    } else {
      out[out.length - 1] = (byte) (out[out.length - 1] & 0xF0 | nibble);
    }
    return Bytes.adopt(out);
  }
}
