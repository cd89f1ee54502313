package dev.bulwark.core.table;

import static dev.bulwark.core.codec.Codecs.field;
import static dev.bulwark.core.codec.Codecs.i64;
import static dev.bulwark.core.codec.Codecs.list;
import static dev.bulwark.core.codec.Codecs.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.CorruptionException;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.codec.DecodeException;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.testing.MemoryView;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContentTableTest {
  record Note(String text, long at, List<String> tags) {}

  static final Codec<Note> NOTE = Codecs.record("test.Note", field("text", utf8(), Note::text),
      field("at", i64(), Note::at), field("tags", list(utf8()), Note::tags), Note::new);

  static final ContentTable<Note> NOTES = ContentTable.of("test.Notes", 1, NOTE);

  private static final Note HELLO = new Note("hello", 42, List.of("a", "b"));

  /** Stores {@code note} through a committed transaction and returns its key. */
  private static ContentKey store(MemoryView view, Note note) {
    Transaction tx = new Transaction(view);
    ContentKey key = NOTES.put(tx, note);
    view.apply(tx.commit());
    return key;
  }

  @Test
  void putThenGetThroughATransaction() {
    MemoryView view = new MemoryView();
    ContentKey key = store(view, HELLO);
    assertThat(key).isEqualTo(NOTES.keyOf(HELLO));
    assertThat(key.digest()).isEqualTo(Digest.sha256(NOTE.encode(HELLO)));
    assertThat(view.entries()).containsOnlyKeys(key.toBytes());
    assertThat(view.entries().get(key.toBytes())).isEqualTo(NOTE.encode(HELLO));
    assertThat(NOTES.get(view, key)).contains(HELLO);
    assertThat(NOTES.get(view, NOTES.keyOf(new Note("absent", 0, List.of())))).isEmpty();
  }

  @Test
  void equalValuesShareOneKeyAndWritingAgainChangesNothing() {
    MemoryView view = new MemoryView();
    ContentKey first = store(view, HELLO);
    Transaction tx = new Transaction(view);
    ContentKey second = NOTES.put(tx, new Note("hello", 42, List.of("a", "b")));
    WriteSet writes = tx.commit();
    assertThat(second).isEqualTo(first);
    view.apply(writes);
    assertThat(view.entries()).hasSize(1);
    assertThat(NOTES.keyOf(new Note("hello", 43, List.of("a", "b")))).isNotEqualTo(first);
  }

  @Test
  void readsInsideTheTransactionSeeTheValue() {
    Transaction tx = new Transaction(new MemoryView());
    ContentKey key = NOTES.put(tx, HELLO);
    assertThat(NOTES.get(tx, key)).contains(HELLO);
  }

  @Test
  void alteredStoredBytesAreReportedAsCorruptionNamingTheKey() {
    MemoryView view = new MemoryView();
    ContentKey key = store(view, HELLO);
    byte[] stored = view.entries().get(key.toBytes()).toByteArray();
    stored[stored.length - 1] ^= 0x01; // "b" becomes "c": still decodes, but no longer hashes to the key
    view.put(key.toBytes(), Bytes.of(stored));

    CorruptionException e = catchThrowableOfType(CorruptionException.class, () -> NOTES.get(view, key));
    assertThat(e).isNotNull();
    assertThat(e.location()).contains(key.toString()).contains("test.Notes");
    assertThat(e.getMessage()).contains(e.location()).contains(Digest.sha256(stored).hex());
    assertThat(NOTE.decode(Bytes.of(stored)).tags()).containsExactly("a", "c"); // the bytes would have decoded

    view.put(key.toBytes(), Bytes.EMPTY); // truncated to nothing
    assertThat(catchThrowableOfType(CorruptionException.class, () -> NOTES.get(view, key)).location())
        .contains(key.toString());
  }

  @Test
  void bytesThatHashToTheirKeyButDoNotDecodeAreCorruption() {
    MemoryView view = new MemoryView();
    Bytes garbage = Bytes.fromHex("05ff"); // a 5-byte string with one byte
    ContentKey key = NOTES.keyOfEncoded(garbage);
    view.put(key.toBytes(), garbage);
    CorruptionException e = catchThrowableOfType(CorruptionException.class, () -> NOTES.get(view, key));
    assertThat(e).isNotNull();
    assertThat(e.location()).contains(key.toString());
    assertThat(e.getCause()).isInstanceOf(DecodeException.class);
    assertThat(((DecodeException) e.getCause()).reason()).isEqualTo(DecodeException.Reason.TRUNCATED);
  }

  @Test
  void aKeyOfAnotherTableIsRefused() {
    ContentTable<Note> other = ContentTable.of("test.OtherNotes", 1, NOTE);
    ContentKey foreign = other.keyOf(HELLO);
    assertThat(foreign.table()).isNotEqualTo(NOTES.id());
    assertThatThrownBy(() -> NOTES.get(new MemoryView(), foreign)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> NOTES.decodeStored(foreign, NOTE.encode(HELLO))).isInstanceOf(IllegalArgumentException.class);
  }
}
