package dev.bulwark.core.table;

import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.codec.Decoder;
import dev.bulwark.core.codec.Encoder;
import dev.bulwark.core.codec.TypeDescription;
import java.util.Objects;

/**
 * A lazy reference to a content-addressed value (the seed's "Content References"): it holds
 * the key and loads the value on first use through its resolver, so decoding an object never
 * pages in the objects it points to. A ref holds no strong pointer to a loaded value (the
 * shared, byte-bounded cache does), except a freshly created value that may not be stored
 * yet, which it pins until it is dropped.
 */
public final class Ref<T> {
  private final ContentTable<T> table;
  private final ContentKey key;
  private final RefResolver resolver;
  private final T pinned;

  private Ref(ContentTable<T> table, ContentKey key, RefResolver resolver, T pinned) {
    this.table = Objects.requireNonNull(table);
    this.key = Objects.requireNonNull(key);
    this.resolver = resolver;
    this.pinned = pinned;
    if (!key.table().equals(table.id())) {
      throw new IllegalArgumentException("key " + key + " is not in table " + table.name());
    }
  }

  /** A reference to a stored value, loaded through {@code resolver} when first used. */
  public static <T> Ref<T> lazy(ContentTable<T> table, ContentKey key, RefResolver resolver) {
    return new Ref<>(table, key, Objects.requireNonNull(resolver), null);
  }

  /** A reference to a value in hand (for example just created, not yet committed). */
  public static <T> Ref<T> of(ContentTable<T> table, T value) {
    return new Ref<>(table, table.keyOf(value), null, Objects.requireNonNull(value));
  }

  public ContentKey key() {
    return key;
  }

  public ContentTable<T> table() {
    return table;
  }

  /** Whether the value is held here rather than loaded on demand. */
  public boolean isPinned() {
    return pinned != null;
  }

  public T get() {
    return pinned != null ? pinned : resolver.resolve(table, key);
  }

  /**
   * Encodes a ref as the 32-byte digest of its target (the table is part of the type), and
   * decodes to lazy refs bound to {@code resolver}.
   */
  public static <T> Codec<Ref<T>> codec(ContentTable<T> target, RefResolver resolver) {
    Objects.requireNonNull(resolver);
    TypeDescription type = new TypeDescription.Primitive("ref<" + target.id().hex() + ">");
    return new Codec<>() {
      @Override public TypeDescription type() { return type; }

      @Override public void encode(Ref<T> ref, Encoder out) {
        if (!ref.key.table().equals(target.id())) {
          throw new IllegalArgumentException("ref to " + ref.key + " is not into table " + target.name());
        }
        Codecs.digest().encode(ref.key.digest(), out);
      }

      @Override public Ref<T> decode(Decoder in) {
        Digest digest = Codecs.digest().decode(in);
        return lazy(target, new ContentKey(target.id(), digest), resolver);
      }
    };
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Ref<?> other && key.equals(other.key);
  }

  @Override
  public int hashCode() {
    return key.hashCode();
  }

  @Override
  public String toString() {
    return "Ref[" + table.name() + " " + key.digest().shortHex() + (pinned != null ? ", pinned]" : "]");
  }
}
