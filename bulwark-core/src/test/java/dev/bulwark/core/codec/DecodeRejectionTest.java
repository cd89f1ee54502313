package dev.bulwark.core.codec;

import static dev.bulwark.core.codec.Codecs.bool;
import static dev.bulwark.core.codec.Codecs.bytes;
import static dev.bulwark.core.codec.Codecs.digest;
import static dev.bulwark.core.codec.Codecs.field;
import static dev.bulwark.core.codec.Codecs.i32;
import static dev.bulwark.core.codec.Codecs.i64;
import static dev.bulwark.core.codec.Codecs.keyBytes;
import static dev.bulwark.core.codec.Codecs.keyUtf8;
import static dev.bulwark.core.codec.Codecs.list;
import static dev.bulwark.core.codec.Codecs.map;
import static dev.bulwark.core.codec.Codecs.optional;
import static dev.bulwark.core.codec.Codecs.u8;
import static dev.bulwark.core.codec.Codecs.utf8;
import static dev.bulwark.core.codec.Codecs.varI64;
import static dev.bulwark.core.codec.Codecs.varU32;
import static dev.bulwark.core.codec.Codecs.varU64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.DecodeException.Reason;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Each way an input can fail to be canonical, with the reason and the byte offset it is reported at. */
class DecodeRejectionTest {
  private static final DecodeLimits SMALL = new DecodeLimits(4, 3, 8);
  private static final DecodeLimits HUGE = new DecodeLimits(Integer.MAX_VALUE, Integer.MAX_VALUE, 64);

  private static DecodeException assertRejects(Codec<?> codec, String hex, Reason reason, long offset) {
    return assertRejects(codec, hex, DecodeLimits.DEFAULT, reason, offset);
  }

  private static DecodeException assertRejects(Codec<?> codec, String hex, DecodeLimits limits, Reason reason,
      long offset) {
    Bytes input = Bytes.fromHex(hex);
    DecodeException e = catchThrowableOfType(DecodeException.class, () -> codec.decode(input, limits));
    assertThat(e).as("decoding %s as %s should fail", hex, codec.type().render()).isNotNull();
    assertThat(e.reason()).as("reason for %s as %s (%s)", hex, codec.type().render(), e.getMessage()).isEqualTo(reason);
    assertThat(e.offset()).as("offset for %s as %s (%s)", hex, codec.type().render(), e.getMessage()).isEqualTo(offset);
    assertThat(e.getMessage()).startsWith(reason + " at byte " + offset + ":");
    return e;
  }

  record Pair(int tag, long value) {}

  /** u8 then varu64: puts a varint at offset 1. */
  static final Codec<Pair> PAIR = Codecs.record("test.Pair",
      field("tag", u8(), Pair::tag), field("value", varU64(), Pair::value), Pair::new);

  record Range(long low, long high) {
    Range {
      if (low > high) {
        throw new IllegalArgumentException("low " + low + " above high " + high);
      }
    }
  }

  static final Codec<Range> RANGE = Codecs.record("test.Range",
      field("low", varI64(), Range::low), field("high", varI64(), Range::high), Range::new);

  record Named(int shard, String name) {}

  static final KeyCodec<Named> NAMED = Codecs.keyRecord("test.Named",
      field("shard", u8(), Named::shard), field("name", keyUtf8(), Named::name), Named::new);

  @Test
  void trailingBytes() {
    assertRejects(i32(), "8000000000", Reason.TRAILING_BYTES, 4);
    assertRejects(utf8(), "016162", Reason.TRAILING_BYTES, 2);
    assertRejects(Samples.DOC, "000000000000" + "00", Reason.TRAILING_BYTES, 6);
    assertRejects(keyBytes(), "00010001", Reason.TRAILING_BYTES, 2);
    assertRejects(optional(u8()), "0000", Reason.TRAILING_BYTES, 1);
  }

  @Test
  void truncatedInput() {
    assertRejects(u8(), "", Reason.TRUNCATED, 0);
    assertRejects(i64(), "00000000000000", Reason.TRUNCATED, 0);
    assertRejects(digest(), "00".repeat(31), Reason.TRUNCATED, 0);
    assertRejects(varU64(), "80", Reason.TRUNCATED, 1);
    assertRejects(bytes(), "036162", Reason.TRUNCATED, 1);
    assertRejects(utf8(), "05616263", Reason.TRUNCATED, 1);
    assertRejects(keyBytes(), "6162", Reason.TRUNCATED, 2);
    assertRejects(keyBytes(), "616200", Reason.TRUNCATED, 3);
    assertRejects(list(i32()), "0280000000", Reason.TRUNCATED, 5);
  }

  @Test
  void nonMinimalVarint() {
    assertRejects(varU64(), "8000", Reason.NON_MINIMAL_INTEGER, 0);
    assertRejects(varU64(), "ff00", Reason.NON_MINIMAL_INTEGER, 0);
    assertRejects(varU64(), "80808000", Reason.NON_MINIMAL_INTEGER, 0);
    assertRejects(varU64(), "80808080808080808000", Reason.NON_MINIMAL_INTEGER, 0);
    assertRejects(varI64(), "8100", Reason.NON_MINIMAL_INTEGER, 0);
    assertRejects(varU32(), "8080808000", Reason.NON_MINIMAL_INTEGER, 0);
    assertRejects(PAIR, "07" + "8000", Reason.NON_MINIMAL_INTEGER, 1);
    // Lengths, counts and union tags are varints too.
    assertRejects(bytes(), "8000", Reason.NON_MINIMAL_INTEGER, 0);
    assertRejects(list(u8()), "810001", Reason.NON_MINIMAL_INTEGER, 0);
    assertRejects(Samples.SHAPE, "8000" + "00", Reason.NON_MINIMAL_INTEGER, 0);
  }

  @Test
  void varintOverflow() {
    assertThat(varU64().decode(Bytes.fromHex("ffffffffffffffffff01"))).isEqualTo(-1L); // 2^64 - 1 is the maximum
    assertRejects(varU64(), "ffffffffffffffffff02", Reason.INTEGER_OUT_OF_RANGE, 0);
    assertRejects(varU64(), "ffffffffffffffffff7f", Reason.INTEGER_OUT_OF_RANGE, 0);
    assertRejects(varU64(), "ffffffffffffffffff8101", Reason.INTEGER_OUT_OF_RANGE, 0);
    assertRejects(varU64(), "ffffffffffffffffffffffff01", Reason.INTEGER_OUT_OF_RANGE, 0);
    assertRejects(PAIR, "00" + "ffffffffffffffffff02", Reason.INTEGER_OUT_OF_RANGE, 1);
    assertRejects(varU32(), "8080808008", Reason.INTEGER_OUT_OF_RANGE, 0); // 2^31
    assertRejects(varU32(), "ffffffffffffffffff01", Reason.INTEGER_OUT_OF_RANGE, 0);
  }

  @Test
  void invalidBoolean() {
    assertRejects(bool(), "02", Reason.INVALID_BOOLEAN, 0);
    assertRejects(bool(), "ff", Reason.INVALID_BOOLEAN, 0);
    assertRejects(Samples.POLYGON, "00" + "02", Reason.INVALID_BOOLEAN, 1);
  }

  @Test
  void invalidOptionalTag() {
    assertRejects(optional(utf8()), "02", Reason.INVALID_OPTIONAL_TAG, 0);
    assertRejects(optional(i64()), "ff", Reason.INVALID_OPTIONAL_TAG, 0);
    assertRejects(Samples.META, "05" + "01" + "02", Reason.INVALID_OPTIONAL_TAG, 2);
  }

  @Test
  void invalidUtf8() {
    assertRejects(utf8(), "02c080", Reason.INVALID_UTF8, 1); // overlong NUL
    assertRejects(utf8(), "03e08080", Reason.INVALID_UTF8, 1); // overlong three-byte form
    assertRejects(utf8(), "04f0808080", Reason.INVALID_UTF8, 1); // overlong four-byte form
    assertRejects(utf8(), "03eda080", Reason.INVALID_UTF8, 1); // lone high surrogate U+D800
    assertRejects(utf8(), "03edbfbf", Reason.INVALID_UTF8, 1); // lone low surrogate U+DFFF
    assertRejects(utf8(), "06eda0bdedb880", Reason.INVALID_UTF8, 1); // CESU-8 pair for U+1F600
    assertRejects(utf8(), "04f4900000", Reason.INVALID_UTF8, 1); // above U+10FFFF
    assertRejects(utf8(), "036162e2", Reason.INVALID_UTF8, 3); // truncated three-byte sequence
    assertRejects(utf8(), "046162e282", Reason.INVALID_UTF8, 3);
    assertRejects(utf8(), "0461626380", Reason.INVALID_UTF8, 4); // lone continuation byte
    assertRejects(utf8(), "01ff", Reason.INVALID_UTF8, 1);
    assertRejects(keyUtf8(), "c0800001", Reason.INVALID_UTF8, 0);
    assertRejects(keyUtf8(), "eda0800001", Reason.INVALID_UTF8, 0);
    assertRejects(NAMED, "07" + "61e20001", Reason.INVALID_UTF8, 1);
  }

  @Test
  void unsortedAndDuplicateMapKeys() {
    Codec<Map<Integer, Boolean>> codec = map(u8(), bool());
    assertThat(codec.decode(Bytes.fromHex("02" + "0100" + "0201"))).containsExactly(Map.entry(1, false), Map.entry(2, true));
    assertRejects(codec, "02" + "0200" + "0100", Reason.UNSORTED_MAP_KEYS, 3);
    assertRejects(codec, "02" + "0100" + "0100", Reason.DUPLICATE_MAP_KEY, 3);
    assertRejects(codec, "03" + "0100" + "0300" + "0200", Reason.UNSORTED_MAP_KEYS, 5);
    assertRejects(codec, "03" + "0100" + "0300" + "0300", Reason.DUPLICATE_MAP_KEY, 5);
    // Order is by encoding: "aa" (02 61 61) sorts after "b" (01 62), whatever String order says.
    assertRejects(map(utf8(), u8()), "02" + "02616101" + "016202", Reason.UNSORTED_MAP_KEYS, 5);
    assertRejects(map(keyBytes(), u8()), "02" + "61000101" + "000101", Reason.UNSORTED_MAP_KEYS, 5);
  }

  @Test
  void unknownUnionTag() {
    assertRejects(Samples.SHAPE, "02", Reason.UNKNOWN_TAG, 0);
    assertRejects(Samples.SHAPE, "ad02", Reason.UNKNOWN_TAG, 0); // 301
    assertRejects(Samples.SHAPE, "ffffffffffffffffff01", Reason.UNKNOWN_TAG, 0); // 2^64 - 1
    assertRejects(Samples.SHAPE, "ffffffff0f", Reason.UNKNOWN_TAG, 0); // 2^32 - 1, past int
    assertRejects(Samples.DOC, "00" + "00" + "01" + "07", Reason.UNKNOWN_TAG, 3);
  }

  @Test
  void invalidRecordValue() {
    assertThat(RANGE.decode(Bytes.fromHex("0204"))).isEqualTo(new Range(1, 2));
    DecodeException e = assertRejects(list(RANGE), "02" + "0204" + "0402", Reason.INVALID_VALUE, 3);
    assertThat(e.getMessage()).contains("test.Range").contains("low 2 above high 1");
  }

  record Blob(int tag, Bytes data) {}

  static final Codec<Blob> BLOB = Codecs.record("test.Blob",
      field("tag", u8(), Blob::tag), field("data", bytes(), Blob::data), Blob::new);

  @Test
  void lengthPastTheConfiguredLimit() {
    assertThat(bytes().decode(Bytes.fromHex("0401020304"), SMALL)).isEqualTo(Bytes.fromHex("01020304"));
    assertRejects(bytes(), "050102030405", SMALL, Reason.LENGTH_LIMIT, 0);
    assertRejects(utf8(), "056161616161", SMALL, Reason.LENGTH_LIMIT, 0);
    assertRejects(BLOB, "09" + "050102030405", SMALL, Reason.LENGTH_LIMIT, 1);
    assertThat(keyBytes().decode(Bytes.fromHex("010203040001"), SMALL)).isEqualTo(Bytes.fromHex("01020304"));
    assertRejects(keyBytes(), "01020304050001", SMALL, Reason.LENGTH_LIMIT, 0);
    assertRejects(keyBytes(), "00ff00ff00ff00ff00ff0001", SMALL, Reason.LENGTH_LIMIT, 0); // five escaped zeros
    assertRejects(keyUtf8(), "61616161610001", SMALL, Reason.LENGTH_LIMIT, 0);
    assertThat(list(u8()).decode(Bytes.fromHex("03010203"), SMALL)).containsExactly(1, 2, 3);
    assertRejects(list(u8()), "0401020304", SMALL, Reason.LENGTH_LIMIT, 0);
    assertRejects(map(u8(), u8()), "04" + "0000" + "0100" + "0200" + "0300", SMALL, Reason.LENGTH_LIMIT, 0);
    assertRejects(Samples.DOC, "00" + "00" + "00" + "04", SMALL, Reason.LENGTH_LIMIT, 3);
  }

  /** Bytes this thread allocates while {@code body} runs, or -1 when the JVM cannot tell. */
  private static long allocatedBy(Runnable body) {
    if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean threads
        && threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled()) {
      long before = threads.getCurrentThreadAllocatedBytes();
      body.run();
      return threads.getCurrentThreadAllocatedBytes() - before;
    }
    body.run();
    return -1;
  }

  private static void assertFailsCheaply(Codec<?> codec, String hex, DecodeLimits limits, Reason reason, long offset) {
    assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
      long allocated = allocatedBy(() -> assertRejects(codec, hex, limits, reason, offset));
      // A forged length must fail before anything of that size is allocated: allow only the
      // exception, its message and the assertion machinery.
      assertThat(allocated).as("bytes allocated decoding %s", hex).isLessThan(4L << 20);
    });
  }

  @Test
  void forgedHugeLengthFailsWithoutAllocating() {
    String twoTo31 = "8080808008";
    String oneBillion = "8094ebdc03";
    assertThat(varU64().decode(Bytes.fromHex(oneBillion))).isEqualTo(1_000_000_000L);
    // Under the default limits the length itself is refused.
    assertFailsCheaply(bytes(), twoTo31 + "00", DecodeLimits.DEFAULT, Reason.LENGTH_LIMIT, 0);
    assertFailsCheaply(utf8(), twoTo31 + "61", DecodeLimits.DEFAULT, Reason.LENGTH_LIMIT, 0);
    assertFailsCheaply(list(i64()), oneBillion + "00", DecodeLimits.DEFAULT, Reason.LENGTH_LIMIT, 0);
    assertFailsCheaply(map(u8(), u8()), oneBillion + "0000", DecodeLimits.DEFAULT, Reason.LENGTH_LIMIT, 0);
    // With the limits wide open, a length past int is still a limit and anything else is cut off.
    assertFailsCheaply(bytes(), twoTo31, HUGE, Reason.LENGTH_LIMIT, 0);
    assertFailsCheaply(bytes(), "ffffffffffffffffff01", HUGE, Reason.LENGTH_LIMIT, 0);
    assertFailsCheaply(bytes(), "ffffffff07" + "00", HUGE, Reason.TRUNCATED, 5);
    assertFailsCheaply(utf8(), "ffffffff07" + "61", HUGE, Reason.TRUNCATED, 5);
    assertFailsCheaply(list(i64()), oneBillion + "00", HUGE, Reason.TRUNCATED, 5);
    assertFailsCheaply(list(list(u8())), oneBillion + oneBillion, HUGE, Reason.TRUNCATED, 10);
    assertFailsCheaply(map(u8(), u8()), oneBillion + "0000", HUGE, Reason.TRUNCATED, 7);
  }

  @Test
  void invalidKeyEscape() {
    assertRejects(keyBytes(), "0005", Reason.INVALID_KEY_ESCAPE, 0);
    assertRejects(keyBytes(), "61620005", Reason.INVALID_KEY_ESCAPE, 2);
    assertRejects(keyBytes(), "00ff0002", Reason.INVALID_KEY_ESCAPE, 2);
    assertRejects(keyBytes(), "0000", Reason.INVALID_KEY_ESCAPE, 0);
    assertRejects(keyUtf8(), "61007f", Reason.INVALID_KEY_ESCAPE, 1);
    assertRejects(NAMED, "01" + "00fe", Reason.INVALID_KEY_ESCAPE, 1);
    assertRejects(keyBytes(), "00", Reason.TRUNCATED, 1);
  }

  @Test
  void nestingLimit() {
    Codec<List<List<List<Integer>>>> lists = list(list(list(u8())));
    List<List<List<Integer>>> value = List.of(List.of(List.of(7)));
    Bytes encoded = lists.encode(value);
    assertThat(encoded.hex()).isEqualTo("01010107");
    assertThat(lists.decode(encoded, new DecodeLimits(16, 16, 3))).isEqualTo(value);
    assertRejects(lists, "01010107", new DecodeLimits(16, 16, 2), Reason.LENGTH_LIMIT, 3);
    assertRejects(lists, "01010107", new DecodeLimits(16, 16, 1), Reason.LENGTH_LIMIT, 2);

    Codec<Optional<Optional<Optional<Integer>>>> optionals = optional(optional(optional(u8())));
    assertThat(optionals.decode(Bytes.fromHex("01010107"), new DecodeLimits(16, 16, 3)))
        .isEqualTo(Optional.of(Optional.of(Optional.of(7))));
    assertRejects(optionals, "01010107", new DecodeLimits(16, 16, 2), Reason.LENGTH_LIMIT, 3);
    // Absent optionals do not nest.
    assertThat(optionals.decode(Bytes.fromHex("0100"), new DecodeLimits(16, 16, 1))).isEqualTo(Optional.of(Optional.empty()));

    // A union counts one level and its record variant another.
    assertThat(Samples.SHAPE.decode(Bytes.fromHex("0002"), new DecodeLimits(16, 16, 2))).isEqualTo(new Samples.Circle(1));
    assertRejects(Samples.SHAPE, "0002", new DecodeLimits(16, 16, 1), Reason.LENGTH_LIMIT, 1);
  }

  @Test
  void decodeLimitsValidateThemselves() {
    assertThatThrownBy(() -> new DecodeLimits(-1, 1, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new DecodeLimits(1, -1, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new DecodeLimits(1, 1, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThat(new DecodeLimits(0, 0, 1).nestingMax()).isEqualTo(1);
    assertThat(bytes().decode(Bytes.fromHex("00"), new DecodeLimits(0, 0, 1))).isEqualTo(Bytes.EMPTY);
  }
}
