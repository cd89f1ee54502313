package dev.bulwark.core.codec;

import dev.bulwark.core.Bytes;

/**
 * Turns values of one type into their one canonical encoding and back (the seed's
 * Marshallable). Canonical: every value has exactly one valid encoding, and
 * {@link #decode(Decoder)} rejects every other byte string with a {@link DecodeException}
 * that names the reason and the byte offset. Implementations are immutable and thread-safe.
 *
 * <p>Build codecs with {@link Codecs}.
 */
public interface Codec<T> {
  /** What this codec encodes; a table id is derived from it. */
  TypeDescription type();

  /** Appends the canonical encoding of {@code value}; fails on values the type cannot hold. */
  void encode(T value, Encoder out);

  /** Reads one value, consuming exactly its encoding. */
  T decode(Decoder in);

  default Bytes encode(T value) {
    Encoder out = Encoder.borrowScratch();
    try {
      encode(value, out);
      return out.toBytes();
    } finally {
      Encoder.returnScratch(out);
    }
  }

  /** Decodes a whole byte string: trailing bytes are an error. */
  default T decode(Bytes bytes, DecodeLimits limits) {
    Decoder in = new Decoder(bytes, limits);
    T value = decode(in);
    in.requireEnd();
    return value;
  }

  default T decode(Bytes bytes) {
    return decode(bytes, DecodeLimits.DEFAULT);
  }
}
