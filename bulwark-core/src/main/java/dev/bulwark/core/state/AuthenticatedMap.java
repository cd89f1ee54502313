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
public final class AuthenticatedMap<K, V> {
  private final String name;
  private final Codec<K> keyCodec;
  private final Codec<V> valueCodec;
  /** The name in key form, the start of every key of this map: encoded once, not per key. */
  private final byte[] namePrefix;

  public AuthenticatedMap(String name, Codec<K> keyCodec, Codec<V> valueCodec) {
    TypeDescription.checkName(name);
    this.name = name;
    this.keyCodec = Objects.requireNonNull(keyCodec);
    this.valueCodec = Objects.requireNonNull(valueCodec);
    this.namePrefix = Codecs.keyUtf8().encode(name).toByteArray();
  }

  public String name() {
    return name;
  }

  public Codec<K> keyCodec() {
    return keyCodec;
  }

  public Codec<V> valueCodec() {
    return valueCodec;
  }

  /** The bytes this map's {@code key} is stored under in the trie. */
  public Bytes keyBytes(K key) {
    Encoder out = new Encoder(namePrefix.length + 32);
    out.writeBytes(namePrefix);
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

  @Override public boolean equals(Object o) {
    return o instanceof AuthenticatedMap<?, ?> other && name.equals(other.name) && keyCodec.equals(other.keyCodec)
        && valueCodec.equals(other.valueCodec);
  }

  @Override public int hashCode() {
    return Objects.hash(name, keyCodec, valueCodec);
  }

  @Override public String toString() {
    return "AuthenticatedMap[" + name + "]";
  }
}
