package dev.bulwark.core.codec;

import static dev.bulwark.core.codec.Codecs.bool;
import static dev.bulwark.core.codec.Codecs.digest;
import static dev.bulwark.core.codec.Codecs.field;
import static dev.bulwark.core.codec.Codecs.fixedBytes;
import static dev.bulwark.core.codec.Codecs.i32;
import static dev.bulwark.core.codec.Codecs.i64;
import static dev.bulwark.core.codec.Codecs.keyBytes;
import static dev.bulwark.core.codec.Codecs.keyUtf8;
import static dev.bulwark.core.codec.Codecs.optional;
import static dev.bulwark.core.codec.Codecs.u64;
import static dev.bulwark.core.codec.Codecs.u8;
import static dev.bulwark.core.codec.Codecs.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.table.IntentTable;
import dev.bulwark.core.table.KeyPrefix;
import dev.bulwark.core.table.TableId;
import dev.bulwark.core.testing.Gens;
import dev.bulwark.core.testing.MemoryView;
import dev.bulwark.core.testing.Seeded;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.quicktheories.QuickTheory;
import org.quicktheories.generators.SourceDSL;

/**
 * Key codecs sort like their values: for generated pairs, comparing the values and comparing
 * their encodings with {@link Bytes#compareTo} (unsigned, lexicographic) agree, and no
 * encoding is a proper prefix of another. Pairs are generated close together (equal, one a
 * small change of the other, sharing a prefix) as well as independently, since far-apart
 * values almost never find ordering bugs.
 */
class KeyOrderTest {
  private static final int CASES = 2000;

  static <T> void assertSameOrder(KeyCodec<T> codec, T a, T b, Comparator<? super T> valueOrder) {
    Bytes ea = codec.encode(a);
    Bytes eb = codec.encode(b);
    int expected = Integer.signum(valueOrder.compare(a, b));
    assertThat(Integer.signum(ea.compareTo(eb)))
        .as("%s: order of %s (%s) vs %s (%s)", codec.type().render(), a, ea, b, eb).isEqualTo(expected);
    if (expected == 0) {
      assertThat(ea).isEqualTo(eb);
    } else {
      assertThat(ea.startsWith(eb) || eb.startsWith(ea))
          .as("%s: %s and %s are prefix-free", codec.type().render(), ea, eb).isFalse();
    }
  }

  /** Generates pairs: equal, near (b derived from a), or independent. */
  private static <T> void forPairs(String name, KeyCodec<T> codec, Comparator<? super T> order,
      Function<SplittableRandom, T> gen, BiFunction<SplittableRandom, T, T> near) {
    Seeded.forAll(name + " order", CASES, r -> {
      T a = gen.apply(r);
      T b = switch (r.nextInt(4)) {
        case 0 -> a;
        case 1 -> near.apply(r, a);
        default -> gen.apply(r);
      };
      assertSameOrder(codec, a, b, order);
      assertSameOrder(codec, b, a, order);
    });
  }

  static int compareCodePoints(String a, String b) {
    return Arrays.compare(a.codePoints().toArray(), b.codePoints().toArray());
  }

  private static long nearLong(SplittableRandom r, long a) {
    return r.nextBoolean() ? a + r.nextInt(-2, 3) : a ^ (1L << r.nextInt(64));
  }

  private static Bytes nearBytes(SplittableRandom r, Bytes a) {
    byte[] b = a.toByteArray();
    switch (r.nextInt(3)) {
      case 0 -> { // change one byte
        if (b.length > 0) {
          b[r.nextInt(b.length)] = Gens.anyByte(r);
        }
        return Bytes.adopt(b);
      }
      case 1 -> { // extend
        return a.concat(Gens.bytesFrom(r, 3, (byte) 0, (byte) 1, (byte) 0xFF));
      }
      default -> { // truncate
        return a.slice(0, b.length == 0 ? 0 : r.nextInt(b.length));
      }
    }
  }

  private static String nearString(SplittableRandom r, String a) {
    int[] cps = a.codePoints().toArray();
    int keep = cps.length == 0 ? 0 : r.nextInt(cps.length + 1);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < keep; i++) {
      out.appendCodePoint(cps[i]);
    }
    return out + Gens.stringFrom(r, 3, 0, 1, 'a', 0xFFFF, 0x10000, 0x1F600, 0xE000);
  }

  @Test
  void numericKeyCodecsAgreeOnIndependentPairs() {
    QuickTheory qt = QuickTheory.qt().withFixedSeed(Seeded.BASE_SEED).withExamples(2000);
    qt.forAll(SourceDSL.integers().all(), SourceDSL.integers().all())
        .checkAssert((a, b) -> assertSameOrder(i32(), a, b, Integer::compare));
    qt.forAll(SourceDSL.longs().all(), SourceDSL.longs().all())
        .checkAssert((a, b) -> assertSameOrder(i64(), a, b, Long::compare));
    qt.forAll(SourceDSL.longs().all(), SourceDSL.longs().all())
        .checkAssert((a, b) -> assertSameOrder(u64(), a, b, Long::compareUnsigned));
  }

  @Test
  void u8AndBoolAgreeExhaustively() {
    for (int a = 0; a <= 255; a++) {
      for (int b = 0; b <= 255; b++) {
        assertSameOrder(u8(), a, b, Integer::compare);
      }
    }
    for (boolean a : new boolean[] {false, true}) {
      for (boolean b : new boolean[] {false, true}) {
        assertSameOrder(bool(), a, b, Boolean::compare);
      }
    }
  }

  @Test
  void fixedWidthIntegersAgreeOnNearPairs() {
    forPairs("i32", i32(), Integer::compare, Gens::anyInt, (r, a) -> (int) nearLong(r, a));
    forPairs("i64", i64(), Long::compare, Gens::anyLong, KeyOrderTest::nearLong);
    forPairs("u64", u64(), Long::compareUnsigned, Gens::anyLong, KeyOrderTest::nearLong);
    assertSameOrder(i64(), -1L, 0L, Long::compare);
    assertSameOrder(i64(), Long.MIN_VALUE, Long.MAX_VALUE, Long::compare);
    assertSameOrder(u64(), -1L, 0L, Long::compareUnsigned); // 2^64 - 1 is the largest u64
    assertSameOrder(u64(), Long.MIN_VALUE, Long.MAX_VALUE, Long::compareUnsigned);
  }

  @Test
  void digestsAndFixedBytesAgree() {
    forPairs("digest", digest(), Comparator.naturalOrder(), Gens::digest,
        (r, a) -> Digest.of(nearBytes(r, a.bytes()).concat(Bytes.adopt(new byte[32])).slice(0, 32)));
    KeyCodec<Bytes> five = fixedBytes(5);
    forPairs("fixedBytes(5)", five, Comparator.naturalOrder(), r -> Bytes.adopt(Gens.byteArray(r, 5)),
        (r, a) -> {
          byte[] b = a.toByteArray();
          b[r.nextInt(5)] = Gens.anyByte(r);
          return Bytes.adopt(b);
        });
  }

  @Test
  void keyBytesAgreeWithUnsignedLexicographicOrder() {
    forPairs("keyBytes", keyBytes(), Comparator.naturalOrder(), r -> Gens.bytes(r, 8), KeyOrderTest::nearBytes);
    forPairs("keyBytes small alphabet", keyBytes(), Comparator.naturalOrder(),
        r -> Gens.bytesFrom(r, 5, (byte) 0, (byte) 1, (byte) 0xFE, (byte) 0xFF), KeyOrderTest::nearBytes);
    // The cases the escape exists for: a shorter string, a zero byte, a 0x01 byte.
    List<Bytes> ascending = List.of(Bytes.EMPTY, Bytes.fromHex("00"), Bytes.fromHex("0000"), Bytes.fromHex("0001"),
        Bytes.fromHex("00ff"), Bytes.fromHex("01"), Bytes.fromHex("0100"), Bytes.fromHex("ff"), Bytes.fromHex("ff00"),
        Bytes.fromHex("ffff"));
    for (int i = 0; i + 1 < ascending.size(); i++) {
      assertThat(keyBytes().encode(ascending.get(i))).isLessThan(keyBytes().encode(ascending.get(i + 1)));
    }
  }

  @Test
  void keyUtf8AgreesWithCodePointOrder() {
    forPairs("keyUtf8", keyUtf8(), KeyOrderTest::compareCodePoints, r -> Gens.string(r, 6), KeyOrderTest::nearString);
    forPairs("keyUtf8 small alphabet", keyUtf8(), KeyOrderTest::compareCodePoints,
        r -> Gens.stringFrom(r, 4, 0, 'a', 0xFFFF, 0x1F600), KeyOrderTest::nearString);
    // UTF-16 order and code point order differ for supplementary characters; keys follow code points.
    String bmpHigh = "\uFFFF";
    String emoji = "😀"; // U+1F600, UTF-16 D83D DE00
    assertThat(bmpHigh.compareTo(emoji)).as("String.compareTo is UTF-16 order").isPositive();
    assertThat(compareCodePoints(bmpHigh, emoji)).isNegative();
    assertThat(keyUtf8().encode(bmpHigh)).isLessThan(keyUtf8().encode(emoji));
    assertThat(keyUtf8().encode("\uE000")).isLessThan(keyUtf8().encode("𐀀"));
    assertThat(keyUtf8().encode("a")).isLessThan(keyUtf8().encode("a\0"));
    assertThat(keyUtf8().encode("a\0")).isLessThan(keyUtf8().encode("a\u0001"));
  }

  @Test
  void optionalKeysPutAbsentFirst() {
    KeyCodec<Optional<Long>> codec = optional(i64());
    Comparator<Optional<Long>> order = Comparator.comparing((Optional<Long> o) -> o.isPresent())
        .thenComparing(o -> o.orElse(0L));
    forPairs("optional(i64)", codec, order, r -> Gens.optionalOf(r, Gens::anyLong),
        (r, a) -> r.nextInt(3) == 0 ? Optional.empty() : Optional.of(nearLong(r, a.orElse(Long.MIN_VALUE))));
    KeyCodec<Optional<String>> strings = optional(keyUtf8());
    Comparator<Optional<String>> stringOrder = Comparator.comparing((Optional<String> o) -> o.isPresent())
        .thenComparing((x, y) -> compareCodePoints(x.orElse(""), y.orElse("")));
    forPairs("optional(keyUtf8)", strings, stringOrder, r -> Gens.optionalOf(r, s -> Gens.string(s, 4)),
        (r, a) -> r.nextInt(3) == 0 ? Optional.empty() : Optional.of(nearString(r, a.orElse(""))));
  }

  record Versioned(String address, long revision) {}

  static final KeyCodec<Versioned> VERSIONED = Codecs.keyRecord("test.Versioned",
      field("address", keyUtf8(), Versioned::address), field("revision", u64(), Versioned::revision), Versioned::new);

  static final Comparator<Versioned> VERSIONED_ORDER = Comparator
      .comparing(Versioned::address, KeyOrderTest::compareCodePoints)
      .thenComparing(Versioned::revision, Long::compareUnsigned);

  private static final int[] ADDRESS_ALPHABET = {0, 'a', 'b', 0x1F600};

  private static long revision(SplittableRandom r) {
    return r.nextInt(3) == 0 ? new long[] {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE}[r.nextInt(5)] : r.nextLong(0, 50);
  }

  @Test
  void twoFieldKeyRecordsSortFieldByField() {
    forPairs("keyRecord(address, revision)", VERSIONED, VERSIONED_ORDER,
        r -> new Versioned(Gens.stringFrom(r, 3, ADDRESS_ALPHABET), revision(r)),
        (r, a) -> r.nextBoolean() ? new Versioned(a.address(), nearLong(r, a.revision()))
            : new Versioned(nearString(r, a.address()), a.revision()));
    record BytesFirst(Bytes id, int shard) {}
    KeyCodec<BytesFirst> codec = Codecs.keyRecord("test.BytesFirst",
        field("id", keyBytes(), BytesFirst::id), field("shard", i32(), BytesFirst::shard), BytesFirst::new);
    Comparator<BytesFirst> order = Comparator.comparing(BytesFirst::id).thenComparingInt(BytesFirst::shard);
    forPairs("keyRecord(keyBytes, i32)", codec, order,
        r -> new BytesFirst(Gens.bytesFrom(r, 3, (byte) 0, (byte) 1, (byte) 0xFF), Gens.anyInt(r)),
        (r, a) -> r.nextBoolean() ? new BytesFirst(a.id(), a.shard() + r.nextInt(-1, 2))
            : new BytesFirst(nearBytes(r, a.id()), Gens.anyInt(r)));
  }

  static final IntentTable<Versioned, String> REVISIONS = IntentTable.of("test.Revisions", 1, VERSIONED, utf8());

  @Test
  void addressPrefixSelectsExactlyThatAddressInRevisionOrder() {
    Seeded.forAll("address prefix scan", 200, r -> {
      Set<Versioned> keys = new HashSet<>();
      int n = 1 + r.nextInt(40);
      for (int i = 0; i < n; i++) {
        keys.add(new Versioned(Gens.stringFrom(r, 3, ADDRESS_ALPHABET), revision(r)));
      }
      MemoryView store = new MemoryView();
      // A neighbouring table's keys must stay out of every range of this one.
      store.put(new TableId(REVISIONS.id().value() + 1).prefix(), Bytes.utf8("other"));
      store.put(new TableId(REVISIONS.id().value() - 1).prefix().concat(Bytes.fromHex("ff")), Bytes.utf8("other"));
      List<Bytes> sorted = new ArrayList<>();
      for (Versioned k : keys) {
        Bytes storeKey = REVISIONS.keyOf(k).toBytes();
        sorted.add(storeKey);
        store.put(storeKey, utf8().encode(k.address() + "@" + Long.toUnsignedString(k.revision())));
      }
      sorted.sort(Comparator.naturalOrder());

      Set<String> addresses = new HashSet<>();
      keys.forEach(k -> addresses.add(k.address()));
      addresses.add(Gens.stringFrom(r, 3, ADDRESS_ALPHABET)); // sometimes an address with no keys
      for (String address : addresses) {
        KeyRange range = REVISIONS.range(KeyPrefix.of(keyUtf8(), address));
        List<Integer> positions = new ArrayList<>();
        List<Versioned> inRange = new ArrayList<>();
        for (int i = 0; i < sorted.size(); i++) {
          Versioned k = REVISIONS.decodeKey(sorted.get(i));
          assertThat(range.contains(sorted.get(i))).as("%s in range of %s", k, address)
              .isEqualTo(k.address().equals(address));
          if (range.contains(sorted.get(i))) {
            positions.add(i);
            inRange.add(k);
          }
        }
        // Contiguous in store order, and within the address ordered by unsigned revision.
        for (int i = 1; i < positions.size(); i++) {
          assertThat(positions.get(i)).isEqualTo(positions.get(i - 1) + 1);
          assertThat(Long.compareUnsigned(inRange.get(i - 1).revision(), inRange.get(i).revision())).isNegative();
        }
        // The table's own scan agrees, and the neighbouring tables never show up.
        List<Versioned> scanned = REVISIONS.scan(store, KeyPrefix.of(keyUtf8(), address), Integer.MAX_VALUE)
            .stream().map(IntentTable.Row::key).toList();
        assertThat(scanned).isEqualTo(inRange);
        for (Versioned k : inRange) {
          assertThat(REVISIONS.get(store, k)).contains(k.address() + "@" + Long.toUnsignedString(k.revision()));
          // Address plus revision narrows the range to exactly one key.
          KeyRange exact = REVISIONS.range(KeyPrefix.of(keyUtf8(), address).then(u64(), k.revision()));
          assertThat(sorted.stream().filter(exact::contains).toList()).containsExactly(REVISIONS.keyOf(k).toBytes());
        }
      }
      assertThat(REVISIONS.scan(store, KeyPrefix.NONE, Integer.MAX_VALUE)).hasSize(keys.size());
      assertThat(store.openCursors()).isZero();
    });
  }
}
