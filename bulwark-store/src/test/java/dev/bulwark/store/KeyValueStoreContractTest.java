package dev.bulwark.store;

import static dev.bulwark.store.StoreTesting.entry;
import static dev.bulwark.store.StoreTesting.raw;
import static dev.bulwark.store.StoreTesting.scanAll;
import static dev.bulwark.store.StoreTesting.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.Entry;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.WriteSet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The storage SPI's promises, checked on every backend with the real engines. */
class KeyValueStoreContractTest {
  @TempDir Path dir;

  private static WriteSet put(Bytes key, Bytes value) {
    return WriteSet.builder().put(key, value).build();
  }

  private static WriteSet put(String key, String value) {
    return put(utf8(key), utf8(value));
  }

  private static WriteSet delete(String key) {
    return WriteSet.builder().delete(utf8(key)).build();
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void getPutAndDelete(Backend backend) {
    try (KeyValueStore store = backend.open(dir)) {
      assertThat(store.backend()).isEqualTo(backend);
      assertThat(store.directory()).isEqualTo(dir);
      assertThat(store.get(utf8("a"))).isEmpty();

      store.write(put("a", "1"), Durability.NO_SYNC);
      assertThat(store.get(utf8("a"))).contains(utf8("1"));

      store.write(put("a", "2"), Durability.NO_SYNC);
      assertThat(store.get(utf8("a"))).as("an overwrite replaces the value").contains(utf8("2"));

      store.write(delete("a"), Durability.NO_SYNC);
      assertThat(store.get(utf8("a"))).isEmpty();
      assertThat(scanAll(store)).isEmpty();

      store.write(delete("never-written"), Durability.NO_SYNC);
      assertThat(store.get(utf8("never-written"))).isEmpty();

      store.write(WriteSet.EMPTY, Durability.SYNC);
      assertThat(scanAll(store)).isEmpty();
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aWriteWithOneExtraPutAppliesBothAndTheExtraWinsOverTheSameKey(Backend backend) {
    try (KeyValueStore store = backend.open(dir)) {
      store.write(put("gone", "0"), Durability.NO_SYNC);
      WriteSet writes = WriteSet.builder().put(utf8("a"), utf8("1")).put(utf8("mark"), utf8("from the set"))
          .delete(utf8("gone")).build();
      store.write(writes, utf8("mark"), utf8("extra"), Durability.SYNC);
      assertThat(scanAll(store)).containsExactly(entry("a", "1"), entry("mark", "extra"));
      store.write(WriteSet.EMPTY, utf8("mark"), utf8("alone"), Durability.NO_SYNC);
      assertThat(scanAll(store)).containsExactly(entry("a", "1"), entry("mark", "alone"));
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void emptyAndLargeValuesRoundTrip(Backend backend) {
    byte[] large = new byte[1 << 20];
    new SplittableRandom(7).nextBytes(large);
    Bytes largeValue = Bytes.of(large);
    try (KeyValueStore store = backend.open(dir)) {
      store.write(WriteSet.builder()
          .put(utf8("empty"), Bytes.EMPTY)
          .put(utf8("large"), largeValue)
          .put(utf8("zeros"), raw(0, 0, 0))
          .build(), Durability.SYNC);
      assertThat(store.get(utf8("empty"))).as("an empty value is present, not absent").contains(Bytes.EMPTY);
      assertThat(store.get(utf8("large"))).contains(largeValue);
      assertThat(store.get(utf8("zeros"))).contains(raw(0, 0, 0));
    }
    try (KeyValueStore store = backend.open(dir)) {
      assertThat(store.get(utf8("empty"))).contains(Bytes.EMPTY);
      assertThat(store.get(utf8("large"))).contains(largeValue);
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void scansAreOrderedAndBounded(Backend backend) {
    List<String> keys = List.of("b/1", "a/2", "ab", "a", "b", "a/10", "a/1");
    try (KeyValueStore store = backend.open(dir)) {
      WriteSet.Builder batch = WriteSet.builder();
      for (String k : keys) {
        batch.put(utf8(k), utf8("v" + k));
      }
      store.write(batch.build(), Durability.NO_SYNC);

      assertThat(scanAll(store)).containsExactly(
          entry("a", "va"), entry("a/1", "va/1"), entry("a/10", "va/10"), entry("a/2", "va/2"),
          entry("ab", "vab"), entry("b", "vb"), entry("b/1", "vb/1"));

      assertThat(scanAll(store, KeyRange.prefix(utf8("a/"))))
          .as("prefix scan").containsExactly(entry("a/1", "va/1"), entry("a/10", "va/10"), entry("a/2", "va/2"));
      assertThat(scanAll(store, KeyRange.prefix(utf8("a"))))
          .as("a prefix includes the key equal to it").hasSize(5);
      assertThat(scanAll(store, KeyRange.prefix(utf8("c")))).as("prefix without keys").isEmpty();

      assertThat(scanAll(store, new KeyRange(utf8("ab"), null)))
          .as("open-ended range").containsExactly(entry("ab", "vab"), entry("b", "vb"), entry("b/1", "vb/1"));
      assertThat(scanAll(store, new KeyRange(utf8("a/1"), utf8("ab"))))
          .as("half-open range excludes its end")
          .containsExactly(entry("a/1", "va/1"), entry("a/10", "va/10"), entry("a/2", "va/2"));
      assertThat(scanAll(store, new KeyRange(utf8("a/15"), utf8("b"))))
          .as("range bounds between keys").containsExactly(entry("a/2", "va/2"), entry("ab", "vab"));
      assertThat(scanAll(store, new KeyRange(utf8("b"), utf8("b")))).as("empty range").isEmpty();
      assertThat(scanAll(store, new KeyRange(utf8("c"), null))).as("range past the last key").isEmpty();

      assertThat(store.scan(KeyRange.ALL, 2)).as("limited scan").containsExactly(entry("a", "va"), entry("a/1", "va/1"));
      assertThat(store.scan(KeyRange.ALL, 0)).isEmpty();
      assertThat(store.scan(KeyRange.ALL, 100)).hasSize(keys.size());
      assertThatThrownBy(() -> store.scan(KeyRange.ALL, -1)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> new KeyRange(utf8("b"), utf8("a"))).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void exhaustedCursorSaysSo(Backend backend) {
    try (KeyValueStore store = backend.open(dir)) {
      store.write(put("only", "1"), Durability.NO_SYNC);
      try (Cursor cursor = store.scan(KeyRange.ALL)) {
        assertThat(cursor.hasNext()).isTrue();
        assertThat(cursor.next()).isEqualTo(entry("only", "1"));
        assertThat(cursor.hasNext()).isFalse();
        assertThatThrownBy(cursor::next).isInstanceOf(NoSuchElementException.class);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void keysOrderAsUnsignedBytes(Backend backend) {
    List<Bytes> sorted = List.of(
        raw(0x00), raw(0x00, 0x00), raw(0x00, 0xFF), raw(0x01), raw(0x7F), raw(0x7F, 0xFF),
        raw(0x80), raw(0x80, 0x00), raw(0xFE, 0xFF), raw(0xFF), raw(0xFF, 0x00), raw(0xFF, 0xFF),
        raw(0xFF, 0xFF, 0xFF));
    List<Bytes> shuffled = new ArrayList<>(sorted);
    Collections.shuffle(shuffled, new Random(42));
    try (KeyValueStore store = backend.open(dir)) {
      for (Bytes key : shuffled) {
        store.write(put(key, key.concat(raw(0x00, 0xFF))), Durability.NO_SYNC);
      }
      assertThat(scanAll(store).stream().map(Entry::key).toList())
          .as("keys come back in unsigned byte order").containsExactlyElementsOf(sorted);
      for (Bytes key : sorted) {
        assertThat(store.get(key)).as("get %s", key).contains(key.concat(raw(0x00, 0xFF)));
      }
      assertThat(keysOf(store, KeyRange.prefix(raw(0xFF))))
          .as("prefix 0xFF has no end key: the scan runs to the last key")
          .containsExactly(raw(0xFF), raw(0xFF, 0x00), raw(0xFF, 0xFF), raw(0xFF, 0xFF, 0xFF));
      assertThat(keysOf(store, KeyRange.prefix(raw(0xFF, 0xFF))))
          .containsExactly(raw(0xFF, 0xFF), raw(0xFF, 0xFF, 0xFF));
      assertThat(keysOf(store, KeyRange.prefix(raw(0x00))))
          .containsExactly(raw(0x00), raw(0x00, 0x00), raw(0x00, 0xFF));
      assertThat(keysOf(store, KeyRange.prefix(raw(0x7F))))
          .as("0x7F and 0x80 sort as unsigned, so 0x80 is past the prefix")
          .containsExactly(raw(0x7F), raw(0x7F, 0xFF));
      assertThat(keysOf(store, new KeyRange(raw(0x7F, 0xFF), raw(0xFF))))
          .containsExactly(raw(0x7F, 0xFF), raw(0x80), raw(0x80, 0x00), raw(0xFE, 0xFF));
      assertThat(keysOf(store, new KeyRange(raw(0x00, 0x00), raw(0x01))))
          .containsExactly(raw(0x00, 0x00), raw(0x00, 0xFF));
    }
  }

  private static List<Bytes> keysOf(KeyValueStore store, KeyRange range) {
    return scanAll(store, range).stream().map(Entry::key).toList();
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void snapshotIgnoresLaterWrites(Backend backend) {
    try (KeyValueStore store = backend.open(dir)) {
      store.write(WriteSet.builder()
          .put(utf8("a"), utf8("1")).put(utf8("b"), utf8("1")).put(utf8("c"), utf8("1")).build(), Durability.NO_SYNC);
      // Closed by hand below (and by the store's close if an assertion fails first).
      StoreSnapshot before = store.snapshot();
      try (Cursor openedBefore = before.scan(KeyRange.ALL)) {
        store.write(WriteSet.builder()
            .put(utf8("a"), utf8("2")).delete(utf8("b")).put(utf8("d"), utf8("2")).build(), Durability.NO_SYNC);
        store.write(put("a0", "2"), Durability.SYNC);

        assertThat(before.get(utf8("a"))).as("overwrite after the snapshot").contains(utf8("1"));
        assertThat(before.get(utf8("b"))).as("delete after the snapshot").contains(utf8("1"));
        assertThat(before.get(utf8("d"))).as("insert after the snapshot").isEmpty();
        assertThat(scanAll(before)).containsExactly(entry("a", "1"), entry("b", "1"), entry("c", "1"));
        assertThat(scanAll(before, KeyRange.prefix(utf8("a")))).containsExactly(entry("a", "1"));
        assertThat(scanAll(before, new KeyRange(utf8("b"), null))).containsExactly(entry("b", "1"), entry("c", "1"));

        List<Entry> fromEarlyCursor = new ArrayList<>();
        for (int i = 0; i < 10 && openedBefore.hasNext(); i++) {
          fromEarlyCursor.add(openedBefore.next());
        }
        assertThat(fromEarlyCursor).as("a snapshot cursor opened before the writes")
            .containsExactly(entry("a", "1"), entry("b", "1"), entry("c", "1"));
      }

      assertThat(scanAll(store)).as("the store sees the latest writes")
          .containsExactly(entry("a", "2"), entry("a0", "2"), entry("c", "1"), entry("d", "2"));
      try (StoreSnapshot after = store.snapshot()) {
        assertThat(scanAll(after)).isEqualTo(scanAll(store));
        before.close();
        assertThat(after.get(utf8("d"))).as("closing one snapshot leaves the others").contains(utf8("2"));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void writeSetIsAppliedAllAtOnce(Backend backend) {
    try (KeyValueStore store = backend.open(dir)) {
      WriteSet.Builder old = WriteSet.builder();
      for (int i = 0; i < 5; i++) {
        old.put(utf8("x" + i), utf8("old"));
      }
      store.write(old.build(), Durability.NO_SYNC);
      List<Entry> oldState = scanAll(store);

      try (StoreSnapshot before = store.snapshot()) {
        WriteSet.Builder batch = WriteSet.builder();
        for (int i = 0; i < 5; i++) {
          batch.put(utf8("x" + i), utf8("new"));
        }
        batch.delete(utf8("x3")).put(utf8("y"), utf8("new"));
        WriteSet writes = batch.build();
        assertThat(writes.size()).isEqualTo(6);
        store.write(writes, Durability.SYNC);

        assertThat(scanAll(before)).as("none of the batch is in the earlier snapshot").isEqualTo(oldState);
        assertThat(scanAll(store)).as("all of the batch is in the store").containsExactly(
            entry("x0", "new"), entry("x1", "new"), entry("x2", "new"), entry("x4", "new"), entry("y", "new"));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void syncAndNoSyncWritesSurviveReopen(Backend backend) {
    try (KeyValueStore store = backend.open(dir)) {
      store.write(put("synced", "s"), Durability.SYNC);
      store.write(put("unsynced", "u"), Durability.NO_SYNC);
      store.write(delete("synced"), Durability.NO_SYNC);
      store.write(put("synced-again", "s2"), Durability.SYNC);
    }
    try (KeyValueStore store = backend.open(dir)) {
      assertThat(scanAll(store)).containsExactly(entry("synced-again", "s2"), entry("unsynced", "u"));
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void closeThenReopenKeepsData(Backend backend) {
    List<Entry> written = new ArrayList<>();
    try (KeyValueStore store = backend.open(dir)) {
      for (int i = 0; i < 200; i++) {
        Entry e = entry(String.format("key/%04d", i), "value " + i);
        written.add(e);
        store.write(put(e.key(), e.value()), i % 2 == 0 ? Durability.SYNC : Durability.NO_SYNC);
      }
    }
    for (int round = 0; round < 3; round++) {
      try (KeyValueStore store = backend.open(dir)) {
        assertThat(scanAll(store)).as("after reopen %d", round).isEqualTo(written);
        assertThat(store.get(utf8("key/0123"))).contains(utf8("value 123"));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void everythingFailsCleanlyAfterClose(Backend backend) {
    KeyValueStore store = backend.open(dir);
    store.write(WriteSet.builder()
        .put(utf8("a"), utf8("1")).put(utf8("b"), utf8("2")).put(utf8("c"), utf8("3")).build(), Durability.SYNC);
    StoreSnapshot snapshot = store.snapshot();
    Cursor storeCursor = store.scan(KeyRange.ALL);
    Cursor snapshotCursor = snapshot.scan(KeyRange.ALL);
    assertThat(storeCursor.next()).isEqualTo(entry("a", "1"));
    assertThat(snapshotCursor.next()).isEqualTo(entry("a", "1"));

    store.close();

    assertThatThrownBy(() -> store.get(utf8("a"))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> store.scan(KeyRange.ALL)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> store.scan(KeyRange.ALL, 10)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(store::snapshot).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> store.write(put("d", "4"), Durability.SYNC)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> store.write(put("d", "4"), Durability.NO_SYNC)).isInstanceOf(IllegalStateException.class);

    assertThatThrownBy(() -> snapshot.get(utf8("a"))).as("snapshot after store close")
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> snapshot.scan(KeyRange.ALL)).as("snapshot scan after store close")
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(storeCursor::hasNext).as("store cursor hasNext after store close")
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(storeCursor::next).as("store cursor next after store close")
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(snapshotCursor::hasNext).as("snapshot cursor hasNext after store close")
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(snapshotCursor::next).as("snapshot cursor next after store close")
        .isInstanceOf(IllegalStateException.class);

    assertThatCode(() -> {
      storeCursor.close();
      snapshotCursor.close();
      snapshot.close();
      snapshot.close();
      store.close();
      store.close();
    }).as("closing again is quiet").doesNotThrowAnyException();

    try (KeyValueStore reopened = backend.open(dir)) {
      assertThat(scanAll(reopened)).as("close released the directory lock and kept the data")
          .containsExactly(entry("a", "1"), entry("b", "2"), entry("c", "3"));
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void closedSnapshotAndCursorFailCleanly(Backend backend) {
    try (KeyValueStore store = backend.open(dir)) {
      store.write(WriteSet.builder().put(utf8("a"), utf8("1")).put(utf8("b"), utf8("2")).build(), Durability.NO_SYNC);
      StoreSnapshot snapshot = store.snapshot();
      snapshot.close();
      assertThatThrownBy(() -> snapshot.get(utf8("a"))).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> snapshot.scan(KeyRange.ALL)).isInstanceOf(IllegalStateException.class);
      assertThatCode(snapshot::close).doesNotThrowAnyException();

      Cursor cursor = store.scan(KeyRange.ALL);
      assertThat(cursor.next()).isEqualTo(entry("a", "1"));
      cursor.close();
      assertThatThrownBy(cursor::next).isInstanceOf(IllegalStateException.class);
      assertThatCode(cursor::close).doesNotThrowAnyException();

      assertThat(store.get(utf8("b"))).as("the store is unaffected").contains(utf8("2"));
    }
  }

  @Test
  void openingAnOpenDirectoryTwiceFailsWithStoreException() {
    for (Backend backend : Backend.values()) {
      Path directory = dir.resolve(backend.name());
      try (KeyValueStore store = backend.open(directory)) {
        assertThatThrownBy(() -> backend.open(directory).close())
            .as("%s: a second open of a locked directory", backend)
            .isInstanceOf(StoreException.class)
            .hasMessageContaining(directory.toString());
        store.write(put("still", "open"), Durability.NO_SYNC);
        assertThat(store.get(utf8("still"))).isPresent();
      }
    }
  }

  @Test
  void backendNamesParse() {
    assertThat(Backend.parse("rocksdb")).isEqualTo(Backend.ROCKSDB);
    assertThat(Backend.parse("LevelDB")).isEqualTo(Backend.LEVELDB);
    assertThatThrownBy(() -> Backend.parse("sqlite"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sqlite");
  }
}
