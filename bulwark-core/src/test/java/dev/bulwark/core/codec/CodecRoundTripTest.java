package dev.bulwark.core.codec;

import static dev.bulwark.core.codec.Codecs.bool;
import static dev.bulwark.core.codec.Codecs.bytes;
import static dev.bulwark.core.codec.Codecs.digest;
import static dev.bulwark.core.codec.Codecs.field;
import static dev.bulwark.core.codec.Codecs.fixedBytes;
import static dev.bulwark.core.codec.Codecs.i32;
import static dev.bulwark.core.codec.Codecs.i64;
import static dev.bulwark.core.codec.Codecs.keyBytes;
import static dev.bulwark.core.codec.Codecs.keyUtf8;
import static dev.bulwark.core.codec.Codecs.list;
import static dev.bulwark.core.codec.Codecs.map;
import static dev.bulwark.core.codec.Codecs.optional;
import static dev.bulwark.core.codec.Codecs.u64;
import static dev.bulwark.core.codec.Codecs.u8;
import static dev.bulwark.core.codec.Codecs.utf8;
import static dev.bulwark.core.codec.Codecs.varI64;
import static dev.bulwark.core.codec.Codecs.varU32;
import static dev.bulwark.core.codec.Codecs.varU64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Samples.Circle;
import dev.bulwark.core.codec.Samples.Doc;
import dev.bulwark.core.codec.Samples.Label;
import dev.bulwark.core.codec.Samples.Meta;
import dev.bulwark.core.codec.Samples.Polygon;
import dev.bulwark.core.codec.Samples.Rect;
import dev.bulwark.core.codec.Samples.Shape;
import dev.bulwark.core.testing.Gens;
import dev.bulwark.core.testing.Seeded;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.quicktheories.QuickTheory;

/**
 * Round trip for every combinator: decode(encode(v)) equals v, re-encoding gives the same
 * bytes, the encoding is self-delimiting (two values back to back decode one after the
 * other) and decoding respects the bounds of a slice inside a larger buffer.
 */
class CodecRoundTripTest {
  private static final int CASES = 500;

  private static QuickTheory qt() {
    return QuickTheory.qt().withFixedSeed(Seeded.BASE_SEED).withExamples(1000);
  }

  /** Checks every round-trip property of {@code value} and returns its encoding. */
  static <T> Bytes assertRoundTrip(Codec<T> codec, T value) {
    Bytes encoded = codec.encode(value);
    T decoded = codec.decode(encoded);
    assertThat(decoded).as("decode(encode(%s)) with %s", value, codec.type().render()).isEqualTo(value);
    assertThat(codec.encode(decoded)).as("re-encoding of %s", value).isEqualTo(encoded);

    // Self-delimiting: the value twice in a row decodes as two values, consuming everything.
    Bytes twice = encoded.concat(encoded);
    Decoder both = new Decoder(twice, DecodeLimits.DEFAULT);
    assertThat(codec.decode(both)).isEqualTo(value);
    assertThat(both.position()).isEqualTo(encoded.length());
    assertThat(codec.decode(both)).isEqualTo(value);
    both.requireEnd();

    // A slice of a larger buffer: junk on both sides must not be read.
    byte[] framed = new byte[encoded.length() + 6];
    Arrays.fill(framed, (byte) 0xA5);
    System.arraycopy(encoded.unsafeArray(), 0, framed, 3, encoded.length());
    Decoder slice = new Decoder(framed, 3, encoded.length(), DecodeLimits.DEFAULT);
    assertThat(codec.decode(slice)).isEqualTo(value);
    slice.requireEnd();
    assertThat(slice.position()).isEqualTo(3 + encoded.length());
    return encoded;
  }

  private static <T> void roundTrips(String name, Codec<T> codec, Function<SplittableRandom, T> generator) {
    Seeded.forAll(name + " round trip", CASES, r -> assertRoundTrip(codec, generator.apply(r)));
  }

  // ------------------------------------------------------------ fixed-width integers and booleans

  @Test
  void u8RoundTripsEveryValueInOneByte() {
    for (int v = 0; v <= 255; v++) {
      assertThat(assertRoundTrip(u8(), v).unsafeArray()).containsExactly((byte) v);
    }
    assertThatThrownBy(() -> u8().encode(256)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> u8().encode(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void i32RoundTripsInFourOrderedBytes() {
    qt().forAll(integers().all()).checkAssert(v -> assertThat(assertRoundTrip(i32(), v).length()).isEqualTo(4));
    assertThat(i32().encode(0).hex()).isEqualTo("80000000");
    assertThat(i32().encode(-1).hex()).isEqualTo("7fffffff");
    assertThat(i32().encode(Integer.MIN_VALUE).hex()).isEqualTo("00000000");
    assertThat(i32().encode(Integer.MAX_VALUE).hex()).isEqualTo("ffffffff");
  }

  @Test
  void i64RoundTripsInEightOrderedBytes() {
    qt().forAll(longs().all()).checkAssert(v -> assertThat(assertRoundTrip(i64(), v).length()).isEqualTo(8));
    Seeded.forAll("i64 edges", CASES, r -> assertRoundTrip(i64(), Gens.anyLong(r)));
    assertThat(i64().encode(0L).hex()).isEqualTo("8000000000000000");
    assertThat(i64().encode(Long.MIN_VALUE).hex()).isEqualTo("0000000000000000");
    assertThat(i64().encode(-2L).hex()).isEqualTo("7ffffffffffffffe");
  }

  @Test
  void u64RoundTripsTheFullUnsignedRange() {
    qt().forAll(longs().all()).checkAssert(v -> assertThat(assertRoundTrip(u64(), v).length()).isEqualTo(8));
    assertThat(u64().encode(-1L).hex()).isEqualTo("ffffffffffffffff"); // 2^64 - 1
    assertThat(u64().encode(1L).hex()).isEqualTo("0000000000000001");
  }

  @Test
  void boolRoundTripsAsZeroOrOne() {
    qt().forAll(booleans().all()).checkAssert(v -> assertRoundTrip(bool(), v));
    assertThat(bool().encode(false).hex()).isEqualTo("00");
    assertThat(bool().encode(true).hex()).isEqualTo("01");
  }

  // ------------------------------------------------------------ varints

  /** Minimal LEB128 length of an unsigned 64-bit value. */
  private static int varintLength(long unsigned) {
    int bits = 64 - Long.numberOfLeadingZeros(unsigned);
    return Math.max(1, (bits + 6) / 7);
  }

  @Test
  void varU64RoundTripsWithMinimalLength() {
    qt().forAll(longs().all()).checkAssert(v ->
        assertThat(assertRoundTrip(varU64(), v).length()).isEqualTo(varintLength(v)));
    Seeded.forAll("varu64 widths", CASES, r -> {
      long v = Gens.anyLong(r);
      assertThat(assertRoundTrip(varU64(), v).length()).isEqualTo(varintLength(v));
    });
    assertThat(varU64().encode(0L).hex()).isEqualTo("00");
    assertThat(varU64().encode(127L).hex()).isEqualTo("7f");
    assertThat(varU64().encode(128L).hex()).isEqualTo("8001");
    assertThat(varU64().encode(300L).hex()).isEqualTo("ac02");
    assertThat(varU64().encode(-1L).hex()).isEqualTo("ffffffffffffffffff01"); // 2^64 - 1, ten bytes
    assertThat(varU64().encode(Long.MIN_VALUE).hex()).isEqualTo("80808080808080808001");
  }

  @Test
  void varI64RoundTripsWithZigzag() {
    qt().forAll(longs().all()).checkAssert(v -> {
      long zigzag = (v << 1) ^ (v >> 63);
      assertThat(assertRoundTrip(varI64(), v).length()).isEqualTo(varintLength(zigzag));
    });
    Seeded.forAll("vari64 edges", CASES, r -> assertRoundTrip(varI64(), Gens.anyLong(r)));
    assertThat(varI64().encode(0L).hex()).isEqualTo("00");
    assertThat(varI64().encode(-1L).hex()).isEqualTo("01");
    assertThat(varI64().encode(1L).hex()).isEqualTo("02");
    assertThat(varI64().encode(-64L).hex()).isEqualTo("7f");
    assertThat(varI64().encode(64L).hex()).isEqualTo("8001");
    assertThat(varI64().encode(Long.MAX_VALUE).hex()).isEqualTo("feffffffffffffffff01");
    assertThat(varI64().encode(Long.MIN_VALUE).hex()).isEqualTo("ffffffffffffffffff01");
  }

  @Test
  void varU32RoundTripsNonNegativeInts() {
    qt().forAll(integers().between(0, Integer.MAX_VALUE)).checkAssert(v ->
        assertThat(assertRoundTrip(varU32(), v).length()).isEqualTo(varintLength(v)));
    Seeded.forAll("varu32 widths", CASES, r -> assertRoundTrip(varU32(), Gens.nonNegativeInt(r)));
    assertThat(varU32().encode(Integer.MAX_VALUE).hex()).isEqualTo("ffffffff07");
    assertThatThrownBy(() -> varU32().encode(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  // ------------------------------------------------------------ byte and text strings

  @Test
  void bytesRoundTripWithLengthPrefix() {
    roundTrips("bytes", bytes(), r -> Gens.bytes(r, 40));
    assertRoundTrip(bytes(), Bytes.adopt(new byte[300])); // two-byte length
    assertThat(bytes().encode(Bytes.EMPTY).hex()).isEqualTo("00");
    assertThat(bytes().encode(Bytes.fromHex("00ff")).hex()).isEqualTo("0200ff");
  }

  @Test
  void utf8RoundTripsEveryKindOfCodePoint() {
    roundTrips("utf8", utf8(), r -> Gens.string(r, 12));
    List<String> special = List.of("", "\0", "a\0b", "\0\0", "😀", "👩‍👩‍👧", "𝄞 clef", "\uFFFF", "\uFFFD",
        "\uE000", "\u0800", "\u07FF", "é", new String(Character.toChars(0x10FFFF)), "x\uD83D\uDE00y");
    for (String s : special) {
      Bytes encoded = assertRoundTrip(utf8(), s);
      byte[] expected = s.getBytes(StandardCharsets.UTF_8);
      assertThat(encoded.slice(encoded.length() - expected.length, encoded.length()).unsafeArray())
          .as("UTF-8 payload of %s", s).containsExactly(expected);
    }
    assertThat(utf8().encode("é").hex()).isEqualTo("02c3a9");
    assertThat(utf8().encode("😀").hex()).isEqualTo("04f09f9880");
    assertThat(utf8().encode("a\0").hex()).isEqualTo("026100"); // NUL is plain UTF-8, not modified UTF-8
  }

  @Test
  void utf8RefusesToEncodeALoneSurrogate() {
    assertThatThrownBy(() -> utf8().encode("a\uD800b")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> keyUtf8().encode("\uDC00")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void digestRoundTripsInThirtyTwoBytes() {
    Seeded.forAll("digest round trip", CASES, r ->
        assertThat(assertRoundTrip(digest(), Gens.digest(r)).length()).isEqualTo(32));
    Digest abc = Digest.sha256("abc".getBytes(StandardCharsets.US_ASCII));
    assertThat(digest().encode(abc).hex()).isEqualTo(abc.hex());
  }

  @Test
  void fixedBytesRoundTripWithoutPrefix() {
    for (int length : new int[] {0, 1, 2, 17, 64}) {
      KeyCodec<Bytes> codec = fixedBytes(length);
      assertThat(codec.type().render()).isEqualTo("bytes[" + length + "]");
      Seeded.forAll("fixedBytes(" + length + ") round trip", 100, r -> {
        Bytes value = Bytes.adopt(Gens.byteArray(r, length));
        assertThat(assertRoundTrip(codec, value)).isEqualTo(value);
      });
    }
    assertThatThrownBy(() -> fixedBytes(3).encode(Bytes.fromHex("0102"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> fixedBytes(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void keyBytesRoundTripWithEscapedZeros() {
    roundTrips("keyBytes", keyBytes(), r -> Gens.bytes(r, 24));
    roundTrips("keyBytes zeros", keyBytes(), r -> Gens.bytesFrom(r, 12, (byte) 0, (byte) 1, (byte) 0xFF));
    assertThat(keyBytes().encode(Bytes.EMPTY).hex()).isEqualTo("0001");
    assertThat(keyBytes().encode(Bytes.fromHex("00")).hex()).isEqualTo("00ff0001");
    assertThat(keyBytes().encode(Bytes.fromHex("6100ff01")).hex()).isEqualTo("6100ffff010001");
  }

  @Test
  void keyUtf8RoundTripsEveryKindOfCodePoint() {
    roundTrips("keyUtf8", keyUtf8(), r -> Gens.string(r, 12));
    roundTrips("keyUtf8 NULs", keyUtf8(), r -> Gens.stringFrom(r, 8, 0, 'a', 0x1F600));
    assertThat(keyUtf8().encode("").hex()).isEqualTo("0001");
    assertThat(keyUtf8().encode("a\0").hex()).isEqualTo("6100ff0001");
    assertThat(keyUtf8().encode("😀").hex()).isEqualTo("f09f98800001");
  }

  // ------------------------------------------------------------ containers

  @Test
  void optionalRoundTripsInValueForm() {
    Codec<Optional<String>> codec = optional(utf8());
    assertThat(codec).isNotInstanceOf(KeyCodec.class);
    roundTrips("optional(utf8)", codec, r -> Gens.optionalOf(r, s -> Gens.string(s, 6)));
    roundTrips("optional(optional(varI64))", optional(optional(varI64())),
        r -> Gens.optionalOf(r, s -> Gens.optionalOf(s, Gens::anyLong)));
    assertThat(codec.encode(Optional.empty()).hex()).isEqualTo("00");
    assertThat(codec.encode(Optional.of("")).hex()).isEqualTo("0100");
    assertThat(codec.type().render()).isEqualTo("optional<utf8>");
  }

  @Test
  void optionalRoundTripsInKeyForm() {
    KeyCodec<Optional<Long>> codec = optional(i64());
    roundTrips("optional(i64) key", codec, r -> Gens.optionalOf(r, Gens::anyLong));
    roundTrips("optional(keyUtf8) key", optional(keyUtf8()), r -> Gens.optionalOf(r, s -> Gens.string(s, 6)));
    assertThat(codec.encode(Optional.empty()).hex()).isEqualTo("00");
    assertThat(codec.encode(Optional.of(0L)).hex()).isEqualTo("018000000000000000");
  }

  @Test
  void listRoundTrips() {
    roundTrips("list(i32)", list(i32()), r -> Gens.listOf(r, 10, Gens::anyInt));
    roundTrips("list(list(utf8))", list(list(utf8())), r -> Gens.listOf(r, 4, s -> Gens.listOf(s, 4, t -> Gens.string(t, 4))));
    roundTrips("list(keyBytes)", list(keyBytes()), r -> Gens.listOf(r, 5, s -> Gens.bytes(s, 5)));
    List<Integer> many = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      many.add(i);
    }
    assertThat(assertRoundTrip(list(u8()), many).slice(0, 2).hex()).isEqualTo("c801"); // count 200
    assertThat(list(u8()).encode(List.of(1, 2)).hex()).isEqualTo("020102");
  }

  @Test
  void mapRoundTripsInKeyEncodingOrder() {
    roundTrips("map(utf8, bytes)", map(utf8(), bytes()), r -> Gens.mapOf(r, 6, s -> Gens.string(s, 4), s -> Gens.bytes(s, 4)));
    roundTrips("map(keyBytes, optional(bool))", map(keyBytes(), optional(bool())),
        r -> Gens.mapOf(r, 6, s -> Gens.bytesFrom(s, 3, (byte) 0, (byte) 1, (byte) 0xFF), s -> Gens.optionalOf(s, SplittableRandom::nextBoolean)));
    roundTrips("map(i64, list(varU64))", map(i64(), list(varU64())),
        r -> Gens.mapOf(r, 6, Gens::anyLong, s -> Gens.listOf(s, 3, Gens::anyLong)));
    // Sorted by encoding, not by insertion or value order: i32 flips the sign bit, so -1 first.
    assertThat(map(i32(), bool()).encode(new LinkedHashMap<>(Map.of(1, true, -1, false))).hex())
        .isEqualTo("02" + "7fffffff00" + "8000000101");
    // utf8 keys are length-prefixed, so the shorter "b" sorts before "aa".
    assertThat(map(utf8(), u8()).encode(Map.of("aa", 1, "b", 2)).hex()).isEqualTo("02" + "016202" + "02616101");
  }

  // ------------------------------------------------------------ records

  record R0() {}

  record R1(long a) {}

  record R2(String a, Bytes b) {}

  record R3(int a, boolean b, Digest c) {}

  record R4(long a, Optional<String> b, List<Integer> c, int d) {}

  record R5(String a, Bytes b, Bytes c, long d, Map<Integer, String> e) {}

  record R6(boolean a, boolean b, int c, long d, Shape e, Meta f) {}

  record R7(int a, int b, int c, long d, long e, String f, Bytes g) {}

  record R8(long a, long b, long c, long d, long e, long f, long g, Optional<Bytes> h) {}

  record Wide(List<Long> values) {}

  static final Codec<R0> R0_CODEC = Codecs.record("test.R0", List.of(), f -> new R0());
  static final Codec<R1> R1_CODEC = Codecs.record("test.R1", field("a", i64(), R1::a), R1::new);
  static final Codec<R2> R2_CODEC = Codecs.record("test.R2", field("a", utf8(), R2::a), field("b", bytes(), R2::b), R2::new);
  static final Codec<R3> R3_CODEC = Codecs.record("test.R3",
      field("a", varU32(), R3::a), field("b", bool(), R3::b), field("c", digest(), R3::c), R3::new);
  static final Codec<R4> R4_CODEC = Codecs.record("test.R4", field("a", varI64(), R4::a),
      field("b", optional(utf8()), R4::b), field("c", list(i32()), R4::c), field("d", u8(), R4::d), R4::new);
  static final Codec<R5> R5_CODEC = Codecs.record("test.R5", field("a", keyUtf8(), R5::a),
      field("b", keyBytes(), R5::b), field("c", fixedBytes(3), R5::c), field("d", u64(), R5::d),
      field("e", map(varU32(), utf8()), R5::e), R5::new);
  static final Codec<R6> R6_CODEC = Codecs.record("test.R6", field("a", bool(), R6::a), field("b", bool(), R6::b),
      field("c", i32(), R6::c), field("d", varU64(), R6::d), field("e", Samples.SHAPE, R6::e),
      field("f", Samples.META, R6::f), R6::new);

  static final Codec<R7> R7_CODEC = Codecs.record("test.R7", field("a", u8(), R7::a), field("b", i32(), R7::b),
      field("c", varU32(), R7::c), field("d", varU64(), R7::d), field("e", u64(), R7::e), field("f", keyUtf8(), R7::f),
      field("g", fixedBytes(2), R7::g), R7::new);
  static final Codec<R8> R8_CODEC = Codecs.record("test.R8", field("a", i64(), R8::a), field("b", varI64(), R8::b),
      field("c", i64(), R8::c), field("d", varI64(), R8::d), field("e", i64(), R8::e), field("f", varI64(), R8::f),
      field("g", i64(), R8::g), field("h", optional(keyBytes()), R8::h), R8::new);

  static Codec<Wide> wideCodec(int width) {
    List<Codecs.FieldCodec<Wide, ?>> fields = new ArrayList<>();
    for (int i = 0; i < width; i++) {
      int index = i;
      Codec<Long> codec = i % 2 == 0 ? i64() : varI64();
      fields.add(Codecs.<Wide, Long>field("f" + i, codec, w -> w.values().get(index)));
    }
    return Codecs.record("test.Wide", fields, values -> new Wide(Arrays.stream(values).map(Long.class::cast).toList()));
  }

  @Test
  void recordsOfEveryArityRoundTrip() {
    assertThat(assertRoundTrip(R0_CODEC, new R0()).length()).isZero();
    roundTrips("record/1", R1_CODEC, r -> new R1(Gens.anyLong(r)));
    roundTrips("record/2", R2_CODEC, r -> new R2(Gens.string(r, 5), Gens.bytes(r, 5)));
    roundTrips("record/3", R3_CODEC, r -> new R3(Gens.nonNegativeInt(r), r.nextBoolean(), Gens.digest(r)));
    roundTrips("record/4", R4_CODEC, r -> new R4(Gens.anyLong(r), Gens.optionalOf(r, s -> Gens.string(s, 4)),
        Gens.listOf(r, 4, Gens::anyInt), r.nextInt(256)));
    roundTrips("record/5", R5_CODEC, r -> new R5(Gens.string(r, 4), Gens.bytes(r, 4), Bytes.adopt(Gens.byteArray(r, 3)),
        Gens.anyLong(r), Gens.mapOf(r, 3, Gens::nonNegativeInt, s -> Gens.string(s, 3))));
    roundTrips("record/6", R6_CODEC, r -> new R6(r.nextBoolean(), r.nextBoolean(), Gens.anyInt(r), Gens.anyLong(r),
        Samples.shape(r), Samples.meta(r)));
    roundTrips("record/7", R7_CODEC, r -> new R7(r.nextInt(256), Gens.anyInt(r), Gens.nonNegativeInt(r), Gens.anyLong(r),
        Gens.anyLong(r), Gens.string(r, 4), Bytes.adopt(Gens.byteArray(r, 2))));
    roundTrips("record/8", R8_CODEC, r -> new R8(Gens.anyLong(r), Gens.anyLong(r), Gens.anyLong(r), Gens.anyLong(r),
        Gens.anyLong(r), Gens.anyLong(r), Gens.anyLong(r), Gens.optionalOf(r, s -> Gens.bytes(s, 4))));
    assertThat(R8_CODEC.type().render()).isEqualTo(
        "record test.R8{a:i64,b:vari64,c:i64,d:vari64,e:i64,f:vari64,g:i64,h:optional<keybytes>}");
    Codec<Wide> wide = wideCodec(9);
    roundTrips("record/9", wide, r -> new Wide(List.of(Gens.anyLong(r), Gens.anyLong(r), Gens.anyLong(r),
        Gens.anyLong(r), Gens.anyLong(r), Gens.anyLong(r), Gens.anyLong(r), Gens.anyLong(r), Gens.anyLong(r))));
  }

  @Test
  void recordEncodingIsTheConcatenationOfItsFields() {
    R2 value = new R2("hi", Bytes.fromHex("00ff"));
    assertThat(R2_CODEC.encode(value)).isEqualTo(utf8().encode("hi").concat(bytes().encode(value.b())));
    assertThat(R2_CODEC.encode(value).hex()).isEqualTo("026869" + "0200ff");
  }

  @Test
  void recordRejectsRepeatedFieldNamesAndBadNames() {
    assertThatThrownBy(() -> Codecs.record("test.Dup", field("a", i64(), R1::a), field("a", i64(), R1::a), (a, b) -> new R1(a)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("repeats a field name");
    assertThatThrownBy(() -> Codecs.record("1bad", field("a", i64(), R1::a), R1::new)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> field("has space", i64(), R1::a)).isInstanceOf(IllegalArgumentException.class);
  }

  record K1(String name) {}

  record K2(Bytes id, long revision) {}

  record K3(int shard, Optional<Long> slot, boolean live) {}

  static final KeyCodec<K1> K1_CODEC = Codecs.keyRecord("test.K1", field("name", keyUtf8(), K1::name), K1::new);
  static final KeyCodec<K2> K2_CODEC = Codecs.keyRecord("test.K2",
      field("id", keyBytes(), K2::id), field("revision", i64(), K2::revision), K2::new);
  static final KeyCodec<K3> K3_CODEC = Codecs.keyRecord("test.K3", field("shard", u8(), K3::shard),
      field("slot", optional(u64()), K3::slot), field("live", bool(), K3::live), K3::new);

  @Test
  void keyRecordsRoundTrip() {
    roundTrips("keyRecord/1", K1_CODEC, r -> new K1(Gens.string(r, 6)));
    roundTrips("keyRecord/2", K2_CODEC, r -> new K2(Gens.bytes(r, 6), Gens.anyLong(r)));
    roundTrips("keyRecord/3", K3_CODEC, r -> new K3(r.nextInt(256), Gens.optionalOf(r, Gens::anyLong), r.nextBoolean()));
    assertThat(K2_CODEC.encode(new K2(Bytes.fromHex("00"), 1)).hex()).isEqualTo("00ff0001" + "8000000000000001");
  }

  @Test
  void keyRecordRefusesAFieldThatIsNotAKeyCodec() {
    assertThatThrownBy(() -> Codecs.keyRecord("test.Bad", field("name", utf8(), K1::name), K1::new))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a key codec");
  }

  // ------------------------------------------------------------ unions

  @Test
  void unionRoundTripsEveryVariant() {
    roundTrips("union", Samples.SHAPE, Samples::shape);
    assertThat(Samples.SHAPE.encode(new Circle(-1)).hex()).isEqualTo("00" + "01");
    assertThat(Samples.SHAPE.encode(new Rect(1, 0)).hex()).isEqualTo("01" + "01" + "80000000");
    assertThat(Samples.SHAPE.encode(new Label("", Optional.empty())).hex()).isEqualTo("05" + "00" + "00");
    assertThat(Samples.SHAPE.encode(new Polygon(List.of(), true)).hex()).isEqualTo("ac02" + "00" + "01");
  }

  sealed interface Pet permits Cat, Dog {}

  record Cat(String name) implements Pet {}

  record Dog(String name) implements Pet {}

  static final Codec<Cat> CAT = Codecs.record("test.Cat", field("name", utf8(), Cat::name), Cat::new);
  static final Codec<Dog> DOG = Codecs.record("test.Dog", field("name", utf8(), Dog::name), Dog::new);

  @Test
  void unionConstructionChecksItsVariants() {
    assertThatThrownBy(() -> Codecs.union("test.Pet", Pet.class, Codecs.variant(0, "cat", Cat.class, CAT)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(Dog.class.getName());
    assertThatThrownBy(() -> Codecs.union("test.Pet", Pet.class,
        Codecs.variant(0, "cat", Cat.class, CAT), Codecs.variant(0, "dog", Dog.class, DOG)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("repeats tag 0");
    assertThatThrownBy(() -> Codecs.union("test.Pet", Pet.class,
        Codecs.variant(0, "cat", Cat.class, CAT), Codecs.variant(1, "cat2", Cat.class, CAT), Codecs.variant(2, "dog", Dog.class, DOG)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("repeats class");
    assertThatThrownBy(() -> Codecs.variant(-1, "cat", Cat.class, CAT)).isInstanceOf(IllegalArgumentException.class);
    Codec<Pet> pets = Codecs.union("test.Pet", Pet.class,
        Codecs.variant(7, "dog", Dog.class, DOG), Codecs.variant(2, "cat", Cat.class, CAT));
    assertRoundTrip(pets, new Dog("rex"));
    assertThat(pets.encode(new Cat("tom")).hex()).isEqualTo("02" + "03746f6d");
  }

  // ------------------------------------------------------------ composite

  @Test
  void nestedCompositeRoundTrips() {
    roundTrips("doc", Samples.DOC, Samples::doc);
    roundTrips("list(doc)", list(Samples.DOC), r -> Gens.listOf(r, 3, Samples::doc));
    Doc empty = new Doc("", 0, List.of(), Map.of(), Optional.empty(), Map.of());
    assertThat(Samples.DOC.encode(empty).hex()).isEqualTo("000000000000");
  }

  @Test
  void encodingRejectsNullsInsideContainers() {
    List<Integer> withNull = new ArrayList<>(Arrays.asList(1, null));
    assertThatThrownBy(() -> list(i32()).encode(withNull)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> R2_CODEC.encode(new R2(null, Bytes.EMPTY))).isInstanceOf(NullPointerException.class);
  }
}
