package dev.bulwark.core.state;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.codec.DecodeException;
import dev.bulwark.core.codec.Encoder;
import dev.bulwark.core.codec.TypeDescription;
import java.util.Objects;
import java.util.Optional;

/**
 * A typed view of one part of the state trie: keys of type K mapped to values of type V.
 * Several maps share one trie (one state root per batch); a map's keys are its name in key
 * form followed by the key's canonical encoding, so two maps never collide.
 */
public record AuthenticatedMap<K, V>(String name, Codec<K> keyCodec, Codec<V> valueCodec) {
  public AuthenticatedMap {
    TypeDescription.checkName(name);
    Objects.requireNonNull(keyCodec);
    Objects.requireNonNull(valueCodec);
  }

  /** The bytes this map's {@code key} is stored under in the trie. */
  public Bytes keyBytes(K key) {
    Encoder out = new Encoder();
    Codecs.keyUtf8().encode(name, out);
    keyCodec.encode(key, out);
    return out.toBytes();
  }

  public StateUpdate put(K key, V value) {
    return StateUpdate.put(keyBytes(key), valueCodec.encode(value));
  }

  public StateUpdate delete(K key) {
    return StateUpdate.delete(keyBytes(key));
  }

  public Optional<V> get(NodeLoader loader, Digest root, K key) {
    return StateTrie.get(loader, root, keyBytes(key)).map(valueCodec::decode);
  }

  public StateProof prove(NodeLoader loader, Digest root, K key) {
    return StateTrie.prove(loader, root, keyBytes(key));
  }

  /** What a proof shows about {@code key} under {@code root}: its value, its absence, or nothing. */
  public sealed interface Checked<V> {
    record Present<V>(V value) implements Checked<V> {}

    record Absent<V>() implements Checked<V> {}

    record Invalid<V>(String reason) implements Checked<V> {}
  }

  /** Checks {@code proof} for {@code key} under {@code root} and decodes the proven value. */
  public Checked<V> check(Digest root, K key, StateProof proof) {
    return switch (proof.evaluate(root, keyBytes(key))) {
      case StateProof.Outcome.Present present -> {
        try {
          yield new Checked.Present<>(valueCodec.decode(present.value()));
        } catch (DecodeException e) {
          yield new Checked.Invalid<>("the proven value does not decode as " + valueCodec.type().render() + ": "
              + e.getMessage());
        }
      }
      case StateProof.Outcome.Absent absent -> new Checked.Absent<>();
      case StateProof.Outcome.Invalid invalid -> new Checked.Invalid<>(invalid.reason());
    };
  }
}
