package dev.bulwark.core.state;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import java.util.Objects;
import java.util.Optional;

/**
 * A claim about one state entry with its proof: "{@code key} has {@code value}" (or is absent
 * when the value is empty), checkable against the state root in a signed batch head.
 */
public record StateEntryProof(Bytes key, Optional<Bytes> value, StateProof proof) {
  public static final Codec<StateEntryProof> CODEC = Codecs.record("bulwark.StateEntryProof",
      Codecs.field("key", Codecs.bytes(), StateEntryProof::key),
      Codecs.field("value", Codecs.optional(Codecs.bytes()), StateEntryProof::value),
      Codecs.field("proof", StateProof.CODEC, StateEntryProof::proof),
      StateEntryProof::new);

  public StateEntryProof {
    Objects.requireNonNull(key);
    Objects.requireNonNull(value);
    Objects.requireNonNull(proof);
  }

  /** The proof of {@code key} under {@code root}, with the value it proves. */
  public static StateEntryProof of(NodeLoader loader, Digest root, Bytes key) {
    StateProof proof = StateTrie.prove(loader, root, key);
    Optional<Bytes> value = switch (proof.evaluate(root, key)) {
      case StateProof.Outcome.Present present -> Optional.of(present.value());
      case StateProof.Outcome.Absent absent -> Optional.empty();
      case StateProof.Outcome.Invalid invalid -> throw new IllegalStateException(
          "a proof made from the store does not verify: " + invalid.reason());
    };
    return new StateEntryProof(key, value, proof);
  }

  public boolean verify(Digest stateRoot) {
    return proof.verify(stateRoot, key, value);
  }
}
