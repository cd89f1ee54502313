package dev.bulwark.core.table;

import static dev.bulwark.core.codec.Codecs.field;
import static dev.bulwark.core.codec.Codecs.keyUtf8;
import static dev.bulwark.core.codec.Codecs.u64;
import static dev.bulwark.core.codec.Codecs.varI64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.CorruptionException;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.codec.DecodeException;
import dev.bulwark.core.codec.KeyCodec;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.testing.MemoryView;
import java.util.List;
import org.junit.jupiter.api.Test;

class IntentTableTest {
  record Slot(String address, long revision) {}

  static final KeyCodec<Slot> SLOT = Codecs.keyRecord("test.Slot",
      field("address", keyUtf8(), Slot::address), field("revision", u64(), Slot::revision), Slot::new);

  static final IntentTable<Slot, Long> BALANCES = IntentTable.of("test.Balances", 1, SLOT, varI64());

  private static MemoryView populated() {
    MemoryView view = new MemoryView();
    Transaction tx = new Transaction(view);
    BALANCES.put(tx, new Slot("alice", 2), 20L);
    BALANCES.put(tx, new Slot("alice", 1), 10L);
    BALANCES.put(tx, new Slot("alice", -1L), 99L); // u64 max sorts last
    BALANCES.put(tx, new Slot("alice\0", 0), 5L); // shares the string prefix, not the key prefix
    BALANCES.put(tx, new Slot("bob", 7), -7L);
    view.apply(tx.commit());
    return view;
  }

  @Test
  void putGetDeleteAndScan() {
    MemoryView view = populated();
    assertThat(BALANCES.get(view, new Slot("bob", 7))).contains(-7L);
    assertThat(BALANCES.get(view, new Slot("bob", 8))).isEmpty();
    assertThat(BALANCES.scan(view, KeyPrefix.of(keyUtf8(), "alice"), 10))
        .containsExactly(new IntentTable.Row<>(new Slot("alice", 1), 10L), new IntentTable.Row<>(new Slot("alice", 2), 20L),
            new IntentTable.Row<>(new Slot("alice", -1L), 99L));
    assertThat(BALANCES.scan(view, KeyPrefix.of(keyUtf8(), "alice"), 2)).hasSize(2);
    assertThat(BALANCES.scan(view, KeyPrefix.NONE, 100)).extracting(r -> r.key().address())
        .containsExactly("alice", "alice", "alice", "alice\0", "bob");
    assertThatThrownBy(() -> BALANCES.scan(view, KeyPrefix.NONE, -1)).isInstanceOf(IllegalArgumentException.class);

    Transaction tx = new Transaction(view);
    BALANCES.delete(tx, new Slot("alice", 2));
    assertThat(BALANCES.get(tx, new Slot("alice", 2))).isEmpty();
    assertThat(BALANCES.scan(tx, KeyPrefix.of(keyUtf8(), "alice"), 10)).extracting(IntentTable.Row::value)
        .containsExactly(10L, 99L);
    assertThat(view.openCursors()).isZero();
  }

  @Test
  void aStoredValueThatDoesNotDecodeIsCorruptionNamingTheKey() {
    MemoryView view = populated();
    Bytes storeKey = BALANCES.keyOf(new Slot("bob", 7)).toBytes();
    view.put(storeKey, Bytes.fromHex("8000")); // a non-minimal varint
    CorruptionException e = catchThrowableOfType(CorruptionException.class, () -> BALANCES.get(view, new Slot("bob", 7)));
    assertThat(e).isNotNull();
    assertThat(e.location()).contains(storeKey.hex()).contains("test.Balances");
    assertThat(e.getCause()).isInstanceOf(DecodeException.class);
    assertThat(((DecodeException) e.getCause()).reason()).isEqualTo(DecodeException.Reason.NON_MINIMAL_INTEGER);

    // A scan over the bad row fails the same way; the rows before it are fine.
    assertThat(BALANCES.scan(view, KeyPrefix.of(keyUtf8(), "alice"), 10)).hasSize(3);
    CorruptionException inScan = catchThrowableOfType(CorruptionException.class,
        () -> BALANCES.scan(view, KeyPrefix.NONE, 100));
    assertThat(inScan.location()).contains(storeKey.hex());
    assertThat(view.openCursors()).as("the failed scan closed its cursor").isZero();
  }

  @Test
  void aStoredKeyThatDoesNotDecodeIsCorruption() {
    MemoryView view = populated();
    Bytes badKey = BALANCES.id().prefix().concat(Bytes.fromHex("61620005")); // invalid key escape
    view.put(badKey, Bytes.fromHex("00"));
    CorruptionException e = catchThrowableOfType(CorruptionException.class,
        () -> BALANCES.scan(view, KeyPrefix.NONE, 100));
    assertThat(e.location()).contains(badKey.hex());
    assertThat(((DecodeException) e.getCause()).reason()).isEqualTo(DecodeException.Reason.INVALID_KEY_ESCAPE);
  }

  @Test
  void tablesDoNotSeeEachOthersRows() {
    IntentTable<Slot, Long> other = IntentTable.of("test.Balances", 2, SLOT, varI64());
    MemoryView view = populated();
    assertThat(other.id()).isNotEqualTo(BALANCES.id());
    assertThat(other.get(view, new Slot("bob", 7))).isEmpty();
    assertThat(other.scan(view, KeyPrefix.NONE, 100)).isEmpty();
    assertThat(BALANCES.range(KeyPrefix.NONE).contains(other.keyOf(new Slot("bob", 7)).toBytes())).isFalse();
    assertThat(List.of(BALANCES.range(KeyPrefix.NONE).start())).containsExactly(BALANCES.id().prefix());
  }
}
