package dev.bulwark.store;

import static dev.bulwark.core.codec.Codecs.field;
import static dev.bulwark.store.StoreTesting.raw;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.CorruptionException;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.table.ContentKey;
import dev.bulwark.core.table.ContentTable;
import dev.bulwark.core.table.IntentTable;
import dev.bulwark.core.table.KeyPrefix;
import dev.bulwark.core.table.Ref;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Bytes changed on disk under a content key are reported as corruption that names the key,
 * never returned as data, and never cached.
 */
class CorruptionTest {
  record Note(String text, long number) {}

  static final Codec<Note> NOTE = Codecs.record("test.Note",
      field("text", Codecs.utf8(), Note::text),
      field("number", Codecs.varI64(), Note::number),
      Note::new);
  static final ContentTable<Note> NOTES = ContentTable.of("test.notes", 1, NOTE);
  static final IntentTable<String, Note> LATEST = IntentTable.of("test.latest", 1, Codecs.keyUtf8(), NOTE);

  private static final Note ORIGINAL = new Note("the original", 1);

  @TempDir Path dir;

  private StoreConfig config(Backend backend) {
    return StoreConfig.defaults(dir).withBackend(backend);
  }

  /** Stores {@link #ORIGINAL}, then rewrites its stored bytes through the raw store. */
  private ContentKey storeThenAlter(Backend backend, UnaryOperator<Bytes> alteration) {
    ContentKey key;
    try (ObjectStore objects = ObjectStore.open(config(backend), List.of(NOTES))) {
      key = objects.put(NOTES, ORIGINAL);
      assertThat(objects.get(NOTES, key)).contains(ORIGINAL);
    }
    try (KeyValueStore raw = backend.open(dir)) {
      Bytes stored = raw.get(key.toBytes()).orElseThrow();
      assertThat(stored).isEqualTo(NOTE.encode(ORIGINAL));
      Bytes altered = alteration.apply(stored);
      assertThat(altered).isNotEqualTo(stored);
      raw.write(WriteSet.builder().put(key.toBytes(), altered).build(), Durability.SYNC);
    }
    return key;
  }

  private static void assertCorruptionAt(ContentKey key, Throwable thrown) {
    assertThat(thrown).isInstanceOf(CorruptionException.class);
    CorruptionException corruption = (CorruptionException) thrown;
    assertThat(corruption.location()).as("the location names the key and table")
        .contains(key.toString()).contains(NOTES.name());
    assertThat(corruption.getMessage()).contains(key.toString());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void anotherValidEncodingUnderTheKeyIsCorruption(Backend backend) {
    ContentKey key = storeThenAlter(backend, stored -> NOTE.encode(new Note("a forgery", 2)));
    try (ObjectStore objects = ObjectStore.open(config(backend), List.of(NOTES))) {
      assertThat(objects.cache().stats().entries()).as("a reopened store starts with an empty cache").isZero();
      assertThatThrownBy(() -> objects.get(NOTES, key)).satisfies(thrown -> assertCorruptionAt(key, thrown));
      assertThat(objects.cache().stats().entries()).as("nothing corrupt is cached").isZero();
      assertThatThrownBy(() -> objects.get(NOTES, key)).as("and it stays an error")
          .satisfies(thrown -> assertCorruptionAt(key, thrown));
      Ref<Note> ref = objects.ref(NOTES, key);
      assertThatThrownBy(ref::get).as("through a ref").satisfies(thrown -> assertCorruptionAt(key, thrown));
      try (StoreSnapshot snapshot = objects.snapshot()) {
        assertThatThrownBy(() -> NOTES.get(snapshot, key)).as("read through the table directly")
            .satisfies(thrown -> assertCorruptionAt(key, thrown));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void flippedAndTruncatedBytesAreCorruption(Backend backend) {
    ContentKey flipped = storeThenAlter(backend, stored -> {
      byte[] bytes = stored.toByteArray();
      bytes[bytes.length / 2] ^= 0x01;
      return Bytes.adopt(bytes);
    });
    try (ObjectStore objects = ObjectStore.open(config(backend), List.of(NOTES))) {
      assertThatThrownBy(() -> objects.get(NOTES, flipped)).satisfies(thrown -> assertCorruptionAt(flipped, thrown));
    }
    ContentKey truncated = storeThenAlter(backend, stored -> stored.slice(0, stored.length() - 1));
    try (ObjectStore objects = ObjectStore.open(config(backend), List.of(NOTES))) {
      assertThatThrownBy(() -> objects.get(NOTES, truncated))
          .satisfies(thrown -> assertCorruptionAt(truncated, thrown));
    }
    ContentKey emptied = storeThenAlter(backend, stored -> Bytes.EMPTY);
    try (ObjectStore objects = ObjectStore.open(config(backend), List.of(NOTES))) {
      assertThatThrownBy(() -> objects.get(NOTES, emptied)).satisfies(thrown -> assertCorruptionAt(emptied, thrown));
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void anUndecodableIntentValueIsCorruptionNamingItsKey(Backend backend) {
    Bytes storeKey;
    try (ObjectStore objects = ObjectStore.open(config(backend), List.of(LATEST))) {
      objects.put(LATEST, "frank", ORIGINAL);
      storeKey = LATEST.keyOf("frank").toBytes();
    }
    try (KeyValueStore raw = backend.open(dir)) {
      raw.write(WriteSet.builder().put(storeKey, raw(0xFF, 0xFF)).build(), Durability.SYNC);
    }
    try (ObjectStore objects = ObjectStore.open(config(backend), List.of(LATEST))) {
      assertThatThrownBy(() -> objects.get(LATEST, "frank"))
          .isInstanceOfSatisfying(CorruptionException.class, e -> assertThat(e.location())
              .contains(storeKey.hex()).contains(LATEST.name()));
      assertThatThrownBy(() -> objects.scan(LATEST, KeyPrefix.NONE, 10))
          .isInstanceOf(CorruptionException.class);
    }
  }
}
