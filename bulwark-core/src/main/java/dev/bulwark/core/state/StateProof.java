package dev.bulwark.core.state;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import java.util.List;
import java.util.Optional;

/**
 * Proof of a key's value, or of its absence, under a state root: the encodings of the nodes
 * on the key's path, root first. Each must hash to the reference its parent holds at the
 * key's next nibble; the path ends at the key's leaf (present), at another key's leaf or an
 * empty slot (absent). An empty list proves the empty state.
 */
public record StateProof(List<Bytes> nodes) {
  /** 64 nibbles of path, plus the leaf. */
  public static final int NODES_MAX = 65;

  public static final Codec<StateProof> CODEC = Codecs.record("bulwark.StateProof",
      Codecs.field("nodes", Codecs.list(Codecs.bytes()), StateProof::nodes),
      StateProof::new);

  public StateProof {
    if (nodes.size() > NODES_MAX) {
      throw new IllegalArgumentException("a state proof has at most " + NODES_MAX + " nodes, not " + nodes.size());
    }
    nodes = List.copyOf(nodes);
  }

  /** What a proof shows about a key, if it shows anything. */
  public sealed interface Outcome {
    /** The key is present with this value. */
    record Present(Bytes value) implements Outcome {}

    /** The key is not in the state. */
    record Absent() implements Outcome {}

    /** The proof does not connect the key to the root; {@code reason} says where it breaks. */
    record Invalid(String reason) implements Outcome {}
  }

  /** What this proof shows about {@code key} under {@code root}, checked from the root down. */
  public Outcome evaluate(Digest root, Bytes key) {
    Digest keyHash = Digest.sha256(key);
    if (nodes.isEmpty()) {
      return root.equals(StateTrie.EMPTY_ROOT) ? new Outcome.Absent()
          : new Outcome.Invalid("an empty proof only proves the empty state");
    }
    Digest expected = root;
    for (int depth = 0; depth < nodes.size(); depth++) {
      Bytes encoding = nodes.get(depth);
      if (!Digest.sha256(encoding).equals(expected)) {
        return new Outcome.Invalid("node " + depth + " does not hash to the reference above it");
      }
      StateNode node;
      try {
        node = StateNode.decode(encoding);
      } catch (IllegalArgumentException e) {
        return new Outcome.Invalid("node " + depth + " is malformed: " + e.getMessage());
      }
      boolean last = depth == nodes.size() - 1;
      switch (node) {
        case StateNode.Leaf leaf -> {
          if (!last) {
            return new Outcome.Invalid("a leaf at node " + depth + " is not the end of the proof");
          }
          if (leaf.key().equals(key)) {
            return new Outcome.Present(leaf.value());
          }
          // Another key's leaf holds the only place this key could be: if the two shared the
          // path below it, the trie would have an internal node there instead.
          return StateTrie.sharesPrefix(leaf.keyHash(), keyHash, depth) ? new Outcome.Absent()
              : new Outcome.Invalid("the leaf at node " + depth + " is not on this key's path");
        }
        case StateNode.Internal internal -> {
          if (depth >= 64) {
            return new Outcome.Invalid("path longer than a key hash");
          }
          Digest child = internal.child(StateTrie.nibble(keyHash, depth));
          if (child == null) {
            return last ? new Outcome.Absent() : new Outcome.Invalid("the proof goes on past an empty slot");
          }
          if (last) {
            return new Outcome.Invalid("the proof stops at an internal node with a child on the key's path");
          }
          expected = child;
        }
      }
    }
    throw new IllegalStateException("unreachable: the last node always decides");
  }

  /** Whether this proof shows that {@code key} has {@code value} (or is absent, for an empty value). */
  public boolean verify(Digest root, Bytes key, Optional<Bytes> value) {
    Outcome outcome = evaluate(root, key);
    return switch (outcome) {
      case Outcome.Present present -> value.isPresent() && value.get().equals(present.value());
      case Outcome.Absent absent -> value.isEmpty();
      case Outcome.Invalid invalid -> false;
    };
  }

  /** Encoded bytes in all, the size a user downloads. */
  public int byteSize() {
    int n = 0;
    for (Bytes b : nodes) {
      n += b.length();
    }
    return n;
  }
}
