package dev.bulwark.core.codec;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.DecodeException.Reason;
import dev.bulwark.core.codec.TypeDescription.Field;
import dev.bulwark.core.codec.TypeDescription.Primitive;
import dev.bulwark.core.codec.TypeDescription.Variant;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The codec combinators. Value encodings:
 *
 * <ul>
 *   <li>fixed-width integers: big-endian, signed ones with the sign bit flipped so that the
 *       bytes sort like the numbers ({@code u8}, {@code i32}, {@code i64}, {@code u64});
 *   <li>variable-length integers: unsigned LEB128 in its minimal form ({@code varu32},
 *       {@code varu64}), zigzag for signed ({@code vari64});
 *   <li>booleans: one byte, 0 or 1;
 *   <li>byte and UTF-8 strings: a varint length, then the bytes;
 *   <li>optionals: 0 (absent) or 1 followed by the value;
 *   <li>lists: a varint count, then the elements; maps: a varint count, then key-value pairs
 *       in ascending order of the keys' encodings, with no duplicates;
 *   <li>records: the fields in declared order, nothing else;
 *   <li>unions: a varint tag, then the variant.
 * </ul>
 *
 * <p>Key encodings ({@link KeyCodec}) must also sort like their values and be prefix-free:
 * fixed-width integers, booleans and digests already are; {@link #keyBytes()} and
 * {@link #keyUtf8()} write the bytes with 0x00 escaped as 0x00 0xFF and end with 0x00 0x01.
 */
public final class Codecs {
  private Codecs() {}

  // ---------------------------------------------------------------- integers and booleans

  private static final KeyCodec<Integer> U8 = new KeyCodec<>() {
    @Override public TypeDescription type() { return new Primitive("u8"); }
    @Override public void encode(Integer v, Encoder out) {
      if (v < 0 || v > 255) {
        throw new IllegalArgumentException("u8 out of range: " + v);
      }
      out.writeByte(v);
    }
    @Override public Integer decode(Decoder in) { return in.readUnsignedByte(); }
  };

  private static final KeyCodec<Integer> I32 = new KeyCodec<>() {
    @Override public TypeDescription type() { return new Primitive("i32"); }
    @Override public void encode(Integer v, Encoder out) { out.writeIntBigEndian(v ^ Integer.MIN_VALUE); }
    @Override public Integer decode(Decoder in) { return in.readIntBigEndian() ^ Integer.MIN_VALUE; }
  };

  private static final KeyCodec<Long> I64 = new KeyCodec<>() {
    @Override public TypeDescription type() { return new Primitive("i64"); }
    @Override public void encode(Long v, Encoder out) { out.writeLongBigEndian(v ^ Long.MIN_VALUE); }
    @Override public Long decode(Decoder in) { return in.readLongBigEndian() ^ Long.MIN_VALUE; }
  };

  private static final KeyCodec<Long> U64 = new KeyCodec<>() {
    @Override public TypeDescription type() { return new Primitive("u64"); }
    @Override public void encode(Long v, Encoder out) { out.writeLongBigEndian(v); }
    @Override public Long decode(Decoder in) { return in.readLongBigEndian(); }
  };

  private static final Codec<Long> VAR_U64 = new Codec<>() {
    @Override public TypeDescription type() { return new Primitive("varu64"); }
    @Override public void encode(Long v, Encoder out) { out.writeVarLong(v); }
    @Override public Long decode(Decoder in) { return in.readVarLong(); }
  };

  private static final Codec<Long> VAR_I64 = new Codec<>() {
    @Override public TypeDescription type() { return new Primitive("vari64"); }
    @Override public void encode(Long v, Encoder out) { out.writeVarLong((v << 1) ^ (v >> 63)); }
    @Override public Long decode(Decoder in) {
      long z = in.readVarLong();
      return (z >>> 1) ^ -(z & 1);
    }
  };

  private static final Codec<Integer> VAR_U32 = new Codec<>() {
    @Override public TypeDescription type() { return new Primitive("varu32"); }
    @Override public void encode(Integer v, Encoder out) {
      if (v < 0) {
        throw new IllegalArgumentException("varu32 must be non-negative: " + v);
      }
      out.writeVarLong(v);
    }
    @Override public Integer decode(Decoder in) {
      int start = in.position();
      long v = in.readVarLong();
      if (v < 0 || v > Integer.MAX_VALUE) {
        throw in.errorAt(Reason.INTEGER_OUT_OF_RANGE, start, "varu32 " + Long.toUnsignedString(v) + " exceeds 2^31-1");
      }
      return (int) v;
    }
  };

  private static final KeyCodec<Boolean> BOOL = new KeyCodec<>() {
    @Override public TypeDescription type() { return new Primitive("bool"); }
    @Override public void encode(Boolean v, Encoder out) { out.writeByte(v ? 1 : 0); }
    @Override public Boolean decode(Decoder in) {
      int b = in.readUnsignedByte();
      if (b > 1) {
        throw in.errorAt(Reason.INVALID_BOOLEAN, in.position() - 1, "boolean byte " + b);
      }
      return b == 1;
    }
  };

  /** An unsigned byte, 0 to 255. */
  public static KeyCodec<Integer> u8() { return U8; }

  /** A 32-bit signed integer, 4 bytes, ordered. */
  public static KeyCodec<Integer> i32() { return I32; }

  /** A 64-bit signed integer, 8 bytes, ordered. */
  public static KeyCodec<Long> i64() { return I64; }

  /** A 64-bit unsigned integer held in a {@code long}, 8 bytes, ordered as unsigned. */
  public static KeyCodec<Long> u64() { return U64; }

  /** A 64-bit unsigned integer held in a {@code long}, 1 to 10 bytes. */
  public static Codec<Long> varU64() { return VAR_U64; }

  /** A 64-bit signed integer, zigzag then LEB128: small magnitudes take few bytes. */
  public static Codec<Long> varI64() { return VAR_I64; }

  /** A non-negative {@code int}, 1 to 5 bytes. */
  public static Codec<Integer> varU32() { return VAR_U32; }

  public static KeyCodec<Boolean> bool() { return BOOL; }

  // ---------------------------------------------------------------- byte strings

  private static final Codec<Bytes> BYTES = new Codec<>() {
    @Override public TypeDescription type() { return new Primitive("bytes"); }
    @Override public void encode(Bytes v, Encoder out) {
      out.writeVarLong(v.length());
      out.writeBytes(v);
    }
    @Override public Bytes decode(Decoder in) {
      int n = in.readLength(in.limits().byteStringBytesMax(), "byte string length");
      return Bytes.adopt(in.readBytes(n));
    }
  };

  private static final Codec<String> UTF8 = new Codec<>() {
    @Override public TypeDescription type() { return new Primitive("utf8"); }
    @Override public void encode(String v, Encoder out) {
      byte[] utf8 = encodeUtf8(v);
      out.writeVarLong(utf8.length);
      out.writeBytes(utf8);
    }
    @Override public String decode(Decoder in) {
      int n = in.readLength(in.limits().byteStringBytesMax(), "UTF-8 string length");
      int start = in.position();
      in.skip(n);
      return decodeUtf8(in, in.buffer(), start, n);
    }
  };

  private static final KeyCodec<Digest> DIGEST = new KeyCodec<>() {
    @Override public TypeDescription type() { return new Primitive("sha256"); }
    @Override public void encode(Digest v, Encoder out) { out.writeBytes(v.unsafeArray()); }
    @Override public Digest decode(Decoder in) { return Digest.of(in.readBytes(Digest.LENGTH)); }
  };

  private static final KeyCodec<Bytes> KEY_BYTES = new KeyCodec<>() {
    @Override public TypeDescription type() { return new Primitive("keybytes"); }
    @Override public void encode(Bytes v, Encoder out) { writeEscaped(v.unsafeArray(), out); }
    @Override public Bytes decode(Decoder in) { return Bytes.adopt(readEscaped(in)); }
  };

  private static final KeyCodec<String> KEY_UTF8 = new KeyCodec<>() {
    @Override public TypeDescription type() { return new Primitive("keyutf8"); }
    @Override public void encode(String v, Encoder out) { writeEscaped(encodeUtf8(v), out); }
    @Override public String decode(Decoder in) {
      int start = in.position();
      byte[] raw = readEscaped(in);
      try {
        return strictUtf8Decoder().decode(ByteBuffer.wrap(raw)).toString();
      } catch (CharacterCodingException e) {
        throw in.errorAt(Reason.INVALID_UTF8, start, "key string is not valid UTF-8");
      }
    }
  };

  /** A byte string of any length up to the decode limit. */
  public static Codec<Bytes> bytes() { return BYTES; }

  /** A UTF-8 string; decoding rejects overlong forms, surrogates and other invalid UTF-8. */
  public static Codec<String> utf8() { return UTF8; }

  /** A SHA-256 digest, 32 bytes, ordered. */
  public static KeyCodec<Digest> digest() { return DIGEST; }

  /** A byte string in key form: ordered and prefix-free. */
  public static KeyCodec<Bytes> keyBytes() { return KEY_BYTES; }

  /** A UTF-8 string in key form: ordered by code point and prefix-free. */
  public static KeyCodec<String> keyUtf8() { return KEY_UTF8; }

  /** A byte string of exactly {@code length} bytes, no length prefix; ordered. */
  public static KeyCodec<Bytes> fixedBytes(int length) {
    if (length < 0) {
      throw new IllegalArgumentException("negative length " + length);
    }
    return new KeyCodec<>() {
      @Override public TypeDescription type() { return new Primitive("bytes[" + length + "]"); }
      @Override public void encode(Bytes v, Encoder out) {
        if (v.length() != length) {
          throw new IllegalArgumentException("expected " + length + " bytes, got " + v.length());
        }
        out.writeBytes(v);
      }
      @Override public Bytes decode(Decoder in) { return Bytes.adopt(in.readBytes(length)); }
    };
  }

  private static byte[] encodeUtf8(String s) {
    // Without surrogates every string has one UTF-8 form, which String.getBytes makes (fast,
    // and far less garbage than an encoder per call); with them, the strict encoder decides.
    boolean surrogates = false;
    for (int i = 0, n = s.length(); i < n && !surrogates; i++) {
      surrogates = Character.isSurrogate(s.charAt(i));
    }
    if (!surrogates) {
      return s.getBytes(StandardCharsets.UTF_8);
    }
    CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      ByteBuffer buffer = encoder.encode(CharBuffer.wrap(s));
      return Arrays.copyOf(buffer.array(), buffer.limit());
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("string has an unpaired surrogate and no UTF-8 form", e);
    }
  }

  private static CharsetDecoder strictUtf8Decoder() {
    return StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
  }

  private static String decodeUtf8(Decoder in, byte[] buffer, int start, int length) {
    ByteBuffer bytes = ByteBuffer.wrap(buffer, start, length);
    CharBuffer chars = CharBuffer.allocate(length);
    CharsetDecoder decoder = strictUtf8Decoder();
    CoderResult result = decoder.decode(bytes, chars, true);
    if (!result.isError()) {
      result = decoder.flush(chars);
    }
    if (result.isError()) {
      throw in.errorAt(Reason.INVALID_UTF8, bytes.position(), "invalid UTF-8 sequence");
    }
    return chars.flip().toString();
  }

  private static void writeEscaped(byte[] raw, Encoder out) {
    for (byte b : raw) {
      out.writeByte(b);
      if (b == 0) {
        out.writeByte(0xFF);
      }
    }
    out.writeByte(0x00).writeByte(0x01);
  }

  private static byte[] readEscaped(Decoder in) {
    byte[] buffer = in.buffer();
    int max = in.limits().byteStringBytesMax();
    int start = in.position();
    // First pass: find the terminator and count the output, so nothing is allocated for
    // an unterminated or over-long input.
    int count = 0;
    int i = start;
    int end = in.end();
    while (true) {
      if (i >= end) {
        throw in.errorAt(Reason.TRUNCATED, i, "key string has no terminator");
      }
      byte b = buffer[i++];
      if (b == 0) {
        if (i >= end) {
          throw in.errorAt(Reason.TRUNCATED, i, "key string escape is cut off");
        }
        byte next = buffer[i++];
        if (next == 0x01) {
          break;
        }
        if (next != (byte) 0xFF) {
          throw in.errorAt(Reason.INVALID_KEY_ESCAPE, i - 2, "0x00 followed by " + (next & 0xFF));
        }
      }
      if (++count > max) {
        throw in.errorAt(Reason.LENGTH_LIMIT, start, "key string longer than " + max);
      }
    }
    byte[] out = new byte[count];
    int o = 0;
    for (int j = start; o < count; j++) {
      out[o++] = buffer[j];
      if (buffer[j] == 0) {
        j++;
      }
    }
    in.skip(i - start);
    return out;
  }

  // ---------------------------------------------------------------- containers

  /** Absent or present; in key form the absent value sorts first. */
  public static <T> Codec<Optional<T>> optional(Codec<T> element) {
    return new OptionalCodec<>(element);
  }

  /** An optional whose encoding is ordered and prefix-free, for use in keys. */
  public static <T> KeyCodec<Optional<T>> optional(KeyCodec<T> element) {
    return new OptionalKeyCodec<>(element);
  }

  private static class OptionalCodec<T> implements Codec<Optional<T>> {
    private final Codec<T> element;

    OptionalCodec(Codec<T> element) {
      this.element = Objects.requireNonNull(element);
    }

    @Override public TypeDescription type() { return new TypeDescription.OptionalOf(element.type()); }

    @Override public void encode(Optional<T> v, Encoder out) {
      if (v.isPresent()) {
        out.writeByte(1);
        element.encode(v.get(), out);
      } else {
        out.writeByte(0);
      }
    }

    @Override public Optional<T> decode(Decoder in) {
      int tag = in.readUnsignedByte();
      return switch (tag) {
        case 0 -> Optional.empty();
        case 1 -> {
          in.enter();
          T value = element.decode(in);
          in.exit();
          yield Optional.of(value);
        }
        default -> throw in.errorAt(Reason.INVALID_OPTIONAL_TAG, in.position() - 1, "optional tag " + tag);
      };
    }
  }

  private static final class OptionalKeyCodec<T> extends OptionalCodec<T> implements KeyCodec<Optional<T>> {
    OptionalKeyCodec(KeyCodec<T> element) {
      super(element);
    }
  }

  /** A list; decoding caps the count at {@link DecodeLimits#elementsMax()}. */
  public static <T> Codec<List<T>> list(Codec<T> element) {
    Objects.requireNonNull(element);
    return new Codec<>() {
      @Override public TypeDescription type() { return new TypeDescription.ListOf(element.type()); }

      @Override public void encode(List<T> v, Encoder out) {
        out.writeVarLong(v.size());
        for (T e : v) {
          element.encode(Objects.requireNonNull(e, "list element"), out);
        }
      }

      @Override public List<T> decode(Decoder in) {
        int n = in.readLength(in.limits().elementsMax(), "list count");
        in.enter();
        // Never trust the count for allocation: grow as elements actually decode.
        List<T> out = new ArrayList<>(Math.min(n, Math.max(16, in.remaining())));
        for (int i = 0; i < n; i++) {
          out.add(element.decode(in));
        }
        in.exit();
        return Collections.unmodifiableList(out);
      }
    };
  }

  /** A map, encoded in ascending order of the keys' encodings; decoding rejects any other order. */
  public static <K, V> Codec<Map<K, V>> map(Codec<K> keyCodec, Codec<V> valueCodec) {
    Objects.requireNonNull(keyCodec);
    Objects.requireNonNull(valueCodec);
    return new Codec<>() {
      @Override public TypeDescription type() { return new TypeDescription.MapOf(keyCodec.type(), valueCodec.type()); }

      @Override public void encode(Map<K, V> v, Encoder out) {
        record Pair<V>(byte[] key, V value) {}
        List<Pair<V>> pairs = new ArrayList<>(v.size());
        Encoder keyOut = new Encoder();
        for (Map.Entry<K, V> e : v.entrySet()) {
          keyOut.reset();
          keyCodec.encode(Objects.requireNonNull(e.getKey(), "map key"), keyOut);
          pairs.add(new Pair<>(keyOut.toByteArray(), Objects.requireNonNull(e.getValue(), "map value")));
        }
        pairs.sort((a, b) -> Arrays.compareUnsigned(a.key(), b.key()));
        out.writeVarLong(pairs.size());
        for (int i = 0; i < pairs.size(); i++) {
          if (i > 0 && Arrays.equals(pairs.get(i - 1).key(), pairs.get(i).key())) {
            throw new IllegalArgumentException("two map keys have the same encoding; their codec is not canonical");
          }
          out.writeBytes(pairs.get(i).key());
          valueCodec.encode(pairs.get(i).value(), out);
        }
      }

      @Override public Map<K, V> decode(Decoder in) {
        int n = in.readLength(in.limits().elementsMax(), "map count");
        in.enter();
        Map<K, V> out = new LinkedHashMap<>();
        byte[] buffer = in.buffer();
        int previousStart = -1;
        int previousEnd = -1;
        for (int i = 0; i < n; i++) {
          int keyStart = in.position();
          K key = keyCodec.decode(in);
          int keyEnd = in.position();
          if (previousStart >= 0) {
            int order = Arrays.compareUnsigned(buffer, previousStart, previousEnd, buffer, keyStart, keyEnd);
            if (order == 0) {
              throw in.errorAt(Reason.DUPLICATE_MAP_KEY, keyStart, "map key repeats the previous one");
            }
            if (order > 0) {
              throw in.errorAt(Reason.UNSORTED_MAP_KEYS, keyStart, "map key sorts before the previous one");
            }
          }
          previousStart = keyStart;
          previousEnd = keyEnd;
          out.put(key, valueCodec.decode(in));
        }
        in.exit();
        return Collections.unmodifiableMap(out);
      }
    };
  }

  // ---------------------------------------------------------------- records

  /** One field of a record codec: its name, codec and accessor. */
  public record FieldCodec<R, F>(String name, Codec<F> codec, Function<R, F> accessor) {
    public FieldCodec {
      TypeDescription.checkName(name);
      Objects.requireNonNull(codec);
      Objects.requireNonNull(accessor);
    }
  }

  public static <R, F> FieldCodec<R, F> field(String name, Codec<F> codec, Function<R, F> accessor) {
    return new FieldCodec<>(name, codec, accessor);
  }

  /** Builds a record from its decoded fields, in declared order. */
  @FunctionalInterface
  public interface Constructor<R> {
    R construct(Object[] fields);
  }

  /**
   * A record codec over any number of fields. The typed overloads below are the usual way in;
   * this one serves generated or very wide records.
   */
  public static <R> Codec<R> record(String name, List<FieldCodec<R, ?>> fields, Constructor<R> constructor) {
    return new RecordCodec<>(name, fields, constructor);
  }

  /**
   * A record of key codecs: its encoding is the concatenation of its fields', so it is ordered
   * field by field and any leading fields form a scannable prefix.
   */
  public static <R> KeyCodec<R> keyRecord(String name, List<FieldCodec<R, ?>> fields, Constructor<R> constructor) {
    for (FieldCodec<R, ?> f : fields) {
      if (!(f.codec() instanceof KeyCodec)) {
        throw new IllegalArgumentException("key record " + name + ": field " + f.name() + " is not a key codec");
      }
    }
    return new KeyRecordCodec<>(name, fields, constructor);
  }

  private static class RecordCodec<R> implements Codec<R> {
    private final List<FieldCodec<R, ?>> fields;
    private final Constructor<R> constructor;
    private final TypeDescription type;

    RecordCodec(String name, List<FieldCodec<R, ?>> fields, Constructor<R> constructor) {
      this.fields = List.copyOf(fields);
      this.constructor = Objects.requireNonNull(constructor);
      long distinct = this.fields.stream().map(FieldCodec::name).distinct().count();
      if (distinct != this.fields.size()) {
        throw new IllegalArgumentException("record " + name + " repeats a field name");
      }
      this.type = new TypeDescription.RecordOf(name,
          this.fields.stream().map(f -> new Field(f.name(), f.codec().type())).toList());
    }

    @Override public TypeDescription type() { return type; }

    @Override public void encode(R v, Encoder out) {
      Objects.requireNonNull(v, "record value");
      for (FieldCodec<R, ?> f : fields) {
        encodeField(f, v, out);
      }
    }

    private static <R, F> void encodeField(FieldCodec<R, F> f, R record, Encoder out) {
      f.codec().encode(Objects.requireNonNull(f.accessor().apply(record), f.name()), out);
    }

    @Override public R decode(Decoder in) {
      int start = in.position();
      in.enter();
      Object[] values = new Object[fields.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = fields.get(i).codec().decode(in);
      }
      in.exit();
      try {
        return constructor.construct(values);
      } catch (IllegalArgumentException | NullPointerException e) {
        throw in.errorAt(Reason.INVALID_VALUE, start, type.render() + " rejects these fields: " + e.getMessage());
      }
    }
  }

  private static final class KeyRecordCodec<R> extends RecordCodec<R> implements KeyCodec<R> {
    KeyRecordCodec(String name, List<FieldCodec<R, ?>> fields, Constructor<R> constructor) {
      super(name, fields, constructor);
    }
  }

  /** Two-field constructor. */
  @FunctionalInterface public interface F2<A, B, R> { R apply(A a, B b); }
  /** Three-field constructor. */
  @FunctionalInterface public interface F3<A, B, C, R> { R apply(A a, B b, C c); }
  /** Four-field constructor. */
  @FunctionalInterface public interface F4<A, B, C, D, R> { R apply(A a, B b, C c, D d); }
  /** Five-field constructor. */
  @FunctionalInterface public interface F5<A, B, C, D, E, R> { R apply(A a, B b, C c, D d, E e); }
  /** Six-field constructor. */
  @FunctionalInterface public interface F6<A, B, C, D, E, G, R> { R apply(A a, B b, C c, D d, E e, G g); }
  /** Seven-field constructor. */
  @FunctionalInterface public interface F7<A, B, C, D, E, G, H, R> { R apply(A a, B b, C c, D d, E e, G g, H h); }
  /** Eight-field constructor. */
  @FunctionalInterface public interface F8<A, B, C, D, E, G, H, I, R> {
    R apply(A a, B b, C c, D d, E e, G g, H h, I i);
  }

  @SuppressWarnings("unchecked")
  private static <T> T cast(Object o) {
    return (T) o;
  }

  public static <R, A> Codec<R> record(String name, FieldCodec<R, A> a, Function<A, R> ctor) {
    return record(name, List.of(a), f -> ctor.apply(cast(f[0])));
  }

  public static <R, A, B> Codec<R> record(String name, FieldCodec<R, A> a, FieldCodec<R, B> b, F2<A, B, R> ctor) {
    return record(name, List.of(a, b), f -> ctor.apply(cast(f[0]), cast(f[1])));
  }

  public static <R, A, B, C> Codec<R> record(
      String name, FieldCodec<R, A> a, FieldCodec<R, B> b, FieldCodec<R, C> c, F3<A, B, C, R> ctor) {
    return record(name, List.of(a, b, c), f -> ctor.apply(cast(f[0]), cast(f[1]), cast(f[2])));
  }

  public static <R, A, B, C, D> Codec<R> record(String name, FieldCodec<R, A> a, FieldCodec<R, B> b,
      FieldCodec<R, C> c, FieldCodec<R, D> d, F4<A, B, C, D, R> ctor) {
    return record(name, List.of(a, b, c, d), f -> ctor.apply(cast(f[0]), cast(f[1]), cast(f[2]), cast(f[3])));
  }

  public static <R, A, B, C, D, E> Codec<R> record(String name, FieldCodec<R, A> a, FieldCodec<R, B> b,
      FieldCodec<R, C> c, FieldCodec<R, D> d, FieldCodec<R, E> e, F5<A, B, C, D, E, R> ctor) {
    return record(name, List.of(a, b, c, d, e),
        f -> ctor.apply(cast(f[0]), cast(f[1]), cast(f[2]), cast(f[3]), cast(f[4])));
  }

  public static <R, A, B, C, D, E, G> Codec<R> record(String name, FieldCodec<R, A> a, FieldCodec<R, B> b,
      FieldCodec<R, C> c, FieldCodec<R, D> d, FieldCodec<R, E> e, FieldCodec<R, G> g,
      F6<A, B, C, D, E, G, R> ctor) {
    return record(name, List.of(a, b, c, d, e, g),
        f -> ctor.apply(cast(f[0]), cast(f[1]), cast(f[2]), cast(f[3]), cast(f[4]), cast(f[5])));
  }

  public static <R, A, B, C, D, E, G, H> Codec<R> record(String name, FieldCodec<R, A> a, FieldCodec<R, B> b,
      FieldCodec<R, C> c, FieldCodec<R, D> d, FieldCodec<R, E> e, FieldCodec<R, G> g, FieldCodec<R, H> h,
      F7<A, B, C, D, E, G, H, R> ctor) {
    return record(name, List.of(a, b, c, d, e, g, h),
        f -> ctor.apply(cast(f[0]), cast(f[1]), cast(f[2]), cast(f[3]), cast(f[4]), cast(f[5]), cast(f[6])));
  }

  public static <R, A, B, C, D, E, G, H, I> Codec<R> record(String name, FieldCodec<R, A> a, FieldCodec<R, B> b,
      FieldCodec<R, C> c, FieldCodec<R, D> d, FieldCodec<R, E> e, FieldCodec<R, G> g, FieldCodec<R, H> h,
      FieldCodec<R, I> i, F8<A, B, C, D, E, G, H, I, R> ctor) {
    return record(name, List.of(a, b, c, d, e, g, h, i), f -> ctor.apply(cast(f[0]), cast(f[1]), cast(f[2]),
        cast(f[3]), cast(f[4]), cast(f[5]), cast(f[6]), cast(f[7])));
  }

  public static <R, A> KeyCodec<R> keyRecord(String name, FieldCodec<R, A> a, Function<A, R> ctor) {
    return keyRecord(name, List.of(a), f -> ctor.apply(cast(f[0])));
  }

  public static <R, A, B> KeyCodec<R> keyRecord(String name, FieldCodec<R, A> a, FieldCodec<R, B> b, F2<A, B, R> ctor) {
    return keyRecord(name, List.of(a, b), f -> ctor.apply(cast(f[0]), cast(f[1])));
  }

  public static <R, A, B, C> KeyCodec<R> keyRecord(
      String name, FieldCodec<R, A> a, FieldCodec<R, B> b, FieldCodec<R, C> c, F3<A, B, C, R> ctor) {
    return keyRecord(name, List.of(a, b, c), f -> ctor.apply(cast(f[0]), cast(f[1]), cast(f[2])));
  }

  // ---------------------------------------------------------------- unions

  /** One variant of a union: its tag on the wire, its name, its class and codec. */
  public record VariantCodec<T, V extends T>(int tag, String name, Class<V> type, Codec<V> codec) {
    public VariantCodec {
      if (tag < 0) {
        throw new IllegalArgumentException("variant tags are non-negative: " + tag);
      }
      TypeDescription.checkName(name);
      Objects.requireNonNull(type);
      Objects.requireNonNull(codec);
    }
  }

  public static <T, V extends T> VariantCodec<T, V> variant(int tag, String name, Class<V> type, Codec<V> codec) {
    return new VariantCodec<>(tag, name, type, codec);
  }

  /**
   * A tagged union over the variants of {@code baseType}. When {@code baseType} is sealed, every
   * permitted concrete subtype must have a variant, so adding a subtype without a codec fails
   * at construction, not when the first such value is encoded.
   */
  @SafeVarargs
  public static <T> Codec<T> union(String name, Class<T> baseType, VariantCodec<T, ? extends T>... variants) {
    List<VariantCodec<T, ? extends T>> list = new ArrayList<>(variants.length);
    for (VariantCodec<T, ? extends T> v : variants) {
      list.add(v);
    }
    return new UnionCodec<>(name, baseType, list);
  }

  private static final class UnionCodec<T> implements Codec<T> {
    private final Map<Integer, VariantCodec<T, ? extends T>> byTag = new HashMap<>();
    private final Map<Class<?>, VariantCodec<T, ? extends T>> byClass = new HashMap<>();
    private final TypeDescription type;

    UnionCodec(String name, Class<T> baseType, List<VariantCodec<T, ? extends T>> variants) {
      List<Variant> described = new ArrayList<>();
      for (VariantCodec<T, ? extends T> v : variants) {
        if (byTag.put(v.tag(), v) != null) {
          throw new IllegalArgumentException("union " + name + " repeats tag " + v.tag());
        }
        if (byClass.put(v.type(), v) != null) {
          throw new IllegalArgumentException("union " + name + " repeats class " + v.type().getName());
        }
        described.add(new Variant(v.tag(), v.name(), v.codec().type()));
      }
      if (baseType.isSealed()) {
        for (Class<?> permitted : baseType.getPermittedSubclasses()) {
          if (!permitted.isInterface() && !byClass.containsKey(permitted)) {
            throw new IllegalArgumentException(
                "union " + name + " has no variant for " + permitted.getName() + ", a permitted subtype of "
                    + baseType.getName());
          }
        }
      }
      described.sort((a, b) -> Integer.compare(a.tag(), b.tag()));
      type = new TypeDescription.UnionOf(name, described);
    }

    @Override public TypeDescription type() { return type; }

    @Override public void encode(T v, Encoder out) {
      VariantCodec<T, ? extends T> variant = byClass.get(v.getClass());
      if (variant == null) {
        throw new IllegalArgumentException(type.render() + " has no variant for " + v.getClass().getName());
      }
      out.writeVarLong(variant.tag());
      encodeVariant(variant, v, out);
    }

    private static <T, V extends T> void encodeVariant(VariantCodec<T, V> variant, T value, Encoder out) {
      variant.codec().encode(variant.type().cast(value), out);
    }

    @Override public T decode(Decoder in) {
      int start = in.position();
      long tag = in.readVarLong();
      VariantCodec<T, ? extends T> variant = tag >= 0 && tag <= Integer.MAX_VALUE ? byTag.get((int) tag) : null;
      if (variant == null) {
        throw in.errorAt(Reason.UNKNOWN_TAG, start, "tag " + Long.toUnsignedString(tag) + " is not a variant of " + ((TypeDescription.UnionOf) type).name());
      }
      in.enter();
      T value = variant.codec().decode(in);
      in.exit();
      return value;
    }
  }
}
