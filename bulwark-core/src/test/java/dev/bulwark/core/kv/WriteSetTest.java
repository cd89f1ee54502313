package dev.bulwark.core.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.DecodeException;
import dev.bulwark.core.codec.DecodeLimits;
import dev.bulwark.core.testing.MemoryView;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class WriteSetTest {
  private static Bytes b(String s) {
    return Bytes.utf8(s);
  }

  private static List<String> keys(ReadView view) {
    return view.scan(KeyRange.ALL, Integer.MAX_VALUE).stream()
        .map(e -> new String(e.key().toByteArray(), StandardCharsets.UTF_8)).toList();
  }

  @Test
  void batchNPlusOneRunsOverTheUncommittedWritesOfBatchN() {
    MemoryView store = new MemoryView().put("a", "1").put("b", "2").put("c", "3");

    Transaction batch1 = new Transaction(store);
    batch1.put(b("d"), b("4"));
    batch1.delete(b("a"));
    batch1.put(b("b"), b("two"));
    WriteSet writes1 = batch1.commit();
    ReadView afterBatch1 = writes1.over(store);

    Transaction batch2 = new Transaction(afterBatch1);
    assertThat(batch2.get(b("a"))).as("batch 1's delete").isEmpty();
    assertThat(batch2.get(b("b"))).as("batch 1's put").contains(b("two"));
    assertThat(batch2.get(b("d"))).contains(b("4"));
    assertThat(batch2.get(b("c"))).as("the store below").contains(b("3"));
    batch2.put(b("a"), b("again"));
    batch2.delete(b("d"));
    batch2.put(b("e"), b("5"));
    WriteSet writes2 = batch2.commit();
    ReadView afterBatch2 = writes2.over(afterBatch1);

    assertThat(keys(afterBatch1)).containsExactly("b", "c", "d");
    assertThat(keys(afterBatch2)).containsExactly("a", "b", "c", "e");
    assertThat(afterBatch2.get(b("a"))).contains(b("again"));
    assertThat(afterBatch2.get(b("b"))).contains(b("two"));
    assertThat(afterBatch2.get(b("d"))).isEmpty();
    assertThat(keys(store)).as("nothing reached the store yet").containsExactly("a", "b", "c");

    // Applying the batches in order gives what the layered view showed.
    store.apply(writes1).apply(writes2);
    assertThat(store.scan(KeyRange.ALL, 100)).isEqualTo(afterBatch2.scan(KeyRange.ALL, 100));
    assertThat(store.openCursors()).isZero();
  }

  @Test
  void overScansOnlyTheRequestedRange() {
    MemoryView store = new MemoryView().put("a", "1").put("m", "2").put("z", "3");
    WriteSet writes = WriteSet.builder().put(b("b"), b("x")).put(b("y"), b("y")).delete(b("m")).build();
    ReadView view = writes.over(store);
    assertThat(view.scan(new KeyRange(b("b"), b("y")), 10)).extracting(Entry::key).containsExactly(b("b"));
    assertThat(view.scan(new KeyRange(b("c"), null), 10)).extracting(Entry::key).containsExactly(b("y"), b("z"));
    assertThat(view.scan(KeyRange.ALL, 2)).extracting(Entry::key).containsExactly(b("a"), b("b"));
  }

  @Test
  void builderKeepsTheLastWritePerKeyAndStartsAfreshAfterBuild() {
    WriteSet.Builder builder = WriteSet.builder();
    builder.put(b("k"), b("1")).delete(b("k")).put(b("j"), b("22")).put(b("j"), b("333"));
    WriteSet first = builder.build();
    assertThat(first.mutations()).containsEntry(b("k"), Mutation.Delete.INSTANCE)
        .containsEntry(b("j"), new Mutation.Put(b("333")));
    assertThat(first.byteSize()).isEqualTo(1 + (1 + 3));
    assertThat(builder.build()).isSameAs(WriteSet.EMPTY);
    assertThat(WriteSet.EMPTY.isEmpty()).isTrue();
    assertThat(WriteSet.EMPTY.over(new MemoryView().put("q", "1")).get(b("q"))).contains(b("1"));
  }

  @Test
  void mergingCursorEndsCleanly() {
    MemoryView store = new MemoryView().put("a", "1");
    try (Cursor cursor = WriteSet.builder().delete(b("a")).build().over(store).scan(KeyRange.ALL)) {
      assertThat(cursor.hasNext()).isFalse();
      assertThatThrownBy(cursor::next).isInstanceOf(NoSuchElementException.class);
    }
    assertThat(store.openCursors()).isZero();
  }

  @Test
  void keyRangeHalfOpenAndPrefix() {
    KeyRange range = new KeyRange(b("b"), b("d"));
    assertThat(range.contains(b("b"))).isTrue();
    assertThat(range.contains(b("c\u00ff"))).isTrue();
    assertThat(range.contains(b("d"))).isFalse();
    assertThat(range.contains(b("a"))).isFalse();
    assertThat(KeyRange.prefix(Bytes.fromHex("01ff"))).isEqualTo(new KeyRange(Bytes.fromHex("01ff"), Bytes.fromHex("02")));
    assertThat(KeyRange.prefix(Bytes.fromHex("ffff"))).isEqualTo(new KeyRange(Bytes.fromHex("ffff"), null));
    assertThat(KeyRange.prefix(Bytes.EMPTY)).isEqualTo(KeyRange.ALL);
    assertThat(KeyRange.ALL.contains(Bytes.fromHex("ffffffff"))).isTrue();
    assertThatThrownBy(() -> new KeyRange(b("d"), b("b"))).isInstanceOf(IllegalArgumentException.class);
    assertThat(new KeyRange(b("b"), b("b")).contains(b("b"))).isFalse(); // empty
  }

  @Test
  void aWriteSetBuiltFromAscendingKeysIsTheOneTheBuilderMakes() {
    java.util.SplittableRandom random = new java.util.SplittableRandom(5);
    for (int n : new int[] {0, 1, 2, 3, 7, 100, 1_000}) {
      WriteSet.Builder builder = WriteSet.builder();
      for (int i = 0; i < n; i++) {
        Bytes key = Bytes.utf8("k" + random.nextInt(100_000));
        if (random.nextBoolean()) {
          builder.put(key, Bytes.utf8("v" + i));
        } else {
          builder.delete(key);
        }
      }
      WriteSet expected = builder.build();
      WriteSet built = WriteSet.ofAscending(new java.util.ArrayList<>(expected.mutations().keySet()),
          new java.util.ArrayList<>(expected.mutations().values()));
      // Before anything builds its sorted map: size, weight, the writes in order, and reads over a base.
      assertThat(built.size()).isEqualTo(expected.size());
      assertThat(built.isEmpty()).isEqualTo(n == 0);
      assertThat(built.byteSize()).isEqualTo(expected.byteSize());
      List<java.util.Map.Entry<Bytes, Mutation>> inOrder = new java.util.ArrayList<>();
      built.forEachInOrder((k, m) -> inOrder.add(java.util.Map.entry(k, m)));
      assertThat(inOrder).containsExactlyElementsOf(expected.mutations().entrySet());
      MemoryView base = new MemoryView();
      base.put(Bytes.utf8("k5"), Bytes.utf8("base"));
      for (Bytes probe : List.of(Bytes.utf8("k5"), Bytes.utf8("zz"), inOrder.isEmpty() ? Bytes.utf8("a") : inOrder.getLast().getKey())) {
        assertThat(built.over(base).get(probe)).isEqualTo(expected.over(base).get(probe));
      }
      assertThat(built.over(base).scan(KeyRange.ALL, Integer.MAX_VALUE))
          .isEqualTo(expected.over(base).scan(KeyRange.ALL, Integer.MAX_VALUE));
      assertThat(built.mutations()).containsExactlyEntriesOf(expected.mutations());
      if (n > 2) {
        Bytes middle = List.copyOf(expected.mutations().keySet()).get(expected.size() / 2);
        assertThat(built.mutations().headMap(middle)).isEqualTo(expected.mutations().headMap(middle));
        assertThat(built.mutations().get(middle)).isEqualTo(expected.mutations().get(middle));
      }
    }
    assertThatThrownBy(() -> WriteSet.ofAscending(List.of(b("b"), b("a")), List.of(Mutation.Delete.INSTANCE,
        Mutation.Delete.INSTANCE))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ascending");
    assertThatThrownBy(() -> WriteSet.ofAscending(List.of(b("a"), b("a")), List.of(Mutation.Delete.INSTANCE,
        Mutation.Delete.INSTANCE))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ascending");
    assertThatThrownBy(() -> WriteSet.ofAscending(List.of(b("a")), List.of())).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theRecordsFormIsKindKeyValueInKeyOrder() {
    WriteSet writes = WriteSet.builder().delete(b("b")).put(b("a"), b("xy")).build();
    // count 2, 9 bytes of records: put "a" -> "xy", then delete "b".
    assertThat(WriteSet.CODEC.encode(writes)).isEqualTo(Bytes.fromHex("0209" + "01" + "0161" + "027879" + "00" + "0162"));
    assertThat(writes.recordsLength()).isEqualTo(9);
    byte[] copied = new byte[12];
    writes.copyRecordsTo(copied, 3);
    assertThat(Bytes.adopt(copied)).isEqualTo(Bytes.fromHex("000000" + "010161027879000162"));
    assertThat(WriteSet.CODEC.encode(WriteSet.EMPTY)).isEqualTo(Bytes.fromHex("0000"));
    assertThat(WriteSet.CODEC.decode(Bytes.fromHex("0000"))).isSameAs(WriteSet.EMPTY);
  }

  @Test
  void theRecordsFormRoundTripsFromEveryKindOfWriteSet() {
    java.util.SplittableRandom random = new java.util.SplittableRandom(17);
    for (int n : new int[] {1, 2, 50, 700}) {
      java.util.TreeMap<Bytes, Mutation> model = new java.util.TreeMap<>();
      WriteSet.Builder builder = WriteSet.builder();
      for (int i = 0; i < n; i++) {
        // Lengths across the varint boundaries: one byte up to 127, two up to 16,383, three beyond.
        byte[] key = new byte[1 + random.nextInt(i % 20 == 0 ? 300 : 30)];
        random.nextBytes(key);
        if (random.nextInt(4) == 0) {
          builder.delete(Bytes.adopt(key));
          model.put(Bytes.adopt(key), Mutation.Delete.INSTANCE);
        } else {
          byte[] value = new byte[random.nextInt(i % 40 == 0 ? 20_000 : 100)];
          random.nextBytes(value);
          builder.put(Bytes.adopt(key), Bytes.adopt(value));
          model.put(Bytes.adopt(key), new Mutation.Put(Bytes.adopt(value)));
        }
      }
      WriteSet built = builder.build();
      WriteSet adopted = WriteSet.adopt(new java.util.TreeMap<>(model));
      WriteSet ascending = WriteSet.ofAscending(new java.util.ArrayList<>(model.keySet()), new java.util.ArrayList<>(model.values()));
      // Written out by a store before anything kept them: encoded straight into the target.
      WriteSet fresh = WriteSet.adopt(new java.util.TreeMap<>(model));
      byte[] direct = new byte[fresh.recordsLength() + 2];
      fresh.copyRecordsTo(direct, 2);
      Bytes encoded = WriteSet.CODEC.encode(built);
      assertThat(encoded.slice(encoded.length() - direct.length + 2, encoded.length()))
          .isEqualTo(Bytes.of(direct, 2, direct.length - 2));
      assertThat(WriteSet.CODEC.encode(adopted)).isEqualTo(encoded);
      assertThat(WriteSet.CODEC.encode(ascending)).isEqualTo(encoded);

      WriteSet decoded = WriteSet.CODEC.decode(encoded);
      // Before anything parses the records: size and weight come from the validation.
      assertThat(decoded.size()).isEqualTo(model.size());
      assertThat(decoded.byteSize()).isEqualTo(adopted.byteSize());
      assertThat(WriteSet.CODEC.encode(decoded)).isEqualTo(encoded);
      List<java.util.Map.Entry<Bytes, Mutation>> inOrder = new java.util.ArrayList<>();
      decoded.forEachInOrder((k, m) -> inOrder.add(java.util.Map.entry(k, m)));
      assertThat(inOrder).containsExactlyElementsOf(model.entrySet());
      assertThat(decoded.mutations()).containsExactlyEntriesOf(model);
      MemoryView base = new MemoryView();
      base.put(model.firstKey(), Bytes.utf8("base"));
      base.put(Bytes.fromHex("00"), Bytes.utf8("below every key but an empty one"));
      assertThat(decoded.over(base).scan(KeyRange.ALL, Integer.MAX_VALUE))
          .isEqualTo(adopted.over(base).scan(KeyRange.ALL, Integer.MAX_VALUE));
      assertThat(decoded.recordsLength()).isEqualTo(built.recordsLength());
    }
  }

  private static DecodeException.Reason refusal(String hex) {
    return refusal(hex, DecodeLimits.DEFAULT);
  }

  private static DecodeException.Reason refusal(String hex, DecodeLimits limits) {
    try {
      WriteSet.CODEC.decode(Bytes.fromHex(hex), limits);
    } catch (DecodeException e) {
      return e.reason();
    }
    throw new AssertionError(hex + " decoded");
  }

  @Test
  void malformedRecordsAreRefusedWithTheirReason() {
    // Each a variation of "0209 01 0161 027879 00 0162": put a -> xy, delete b.
    assertThat(WriteSet.CODEC.decode(Bytes.fromHex("0209010161027879000162")).size()).isEqualTo(2);
    assertThat(refusal("0209020161027879000162")).as("a kind that is neither put nor delete").isEqualTo(DecodeException.Reason.UNKNOWN_TAG);
    assertThat(refusal("0209010162027879000161")).as("keys descending").isEqualTo(DecodeException.Reason.UNSORTED_MAP_KEYS);
    assertThat(refusal("0209010161027879000161")).as("a key twice").isEqualTo(DecodeException.Reason.UNSORTED_MAP_KEYS);
    assertThat(refusal("0264010161027879000162")).as("records longer than the input").isEqualTo(DecodeException.Reason.TRUNCATED);
    assertThat(refusal("0309010161027879000162")).as("fewer records than counted").isEqualTo(DecodeException.Reason.TRUNCATED);
    assertThat(refusal("0109010161027879000162")).as("more records than counted").isEqualTo(DecodeException.Reason.TRAILING_BYTES);
    assertThat(refusal("0209010161057879000162")).as("a value longer than its records").isEqualTo(DecodeException.Reason.TRUNCATED);
    assertThat(refusal("020a01810061027879000162")).as("a length with a redundant zero group").isEqualTo(DecodeException.Reason.NON_MINIMAL_INTEGER);
    assertThat(refusal("0209010161027879000162", new DecodeLimits(1, 1 << 20, 64))).as("a value over the limit")
        .isEqualTo(DecodeException.Reason.LENGTH_LIMIT);
    assertThat(refusal("0209010161027879000162", new DecodeLimits(16, 1, 64))).as("more writes than allowed")
        .isEqualTo(DecodeException.Reason.LENGTH_LIMIT);
    assertThat(refusal("0001" + "00")).as("records in an empty write set").isEqualTo(DecodeException.Reason.TRAILING_BYTES);
  }
}
