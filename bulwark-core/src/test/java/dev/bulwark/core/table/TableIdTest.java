package dev.bulwark.core.table;

import static dev.bulwark.core.codec.Codecs.bool;
import static dev.bulwark.core.codec.Codecs.digest;
import static dev.bulwark.core.codec.Codecs.field;
import static dev.bulwark.core.codec.Codecs.fixedBytes;
import static dev.bulwark.core.codec.Codecs.i64;
import static dev.bulwark.core.codec.Codecs.keyUtf8;
import static dev.bulwark.core.codec.Codecs.list;
import static dev.bulwark.core.codec.Codecs.map;
import static dev.bulwark.core.codec.Codecs.optional;
import static dev.bulwark.core.codec.Codecs.u64;
import static dev.bulwark.core.codec.Codecs.utf8;
import static dev.bulwark.core.codec.Codecs.varI64;
import static dev.bulwark.core.codec.Codecs.varU32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.codec.KeyCodec;
import dev.bulwark.core.codec.TypeDescription;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Table ids and type descriptions are part of the storage format: a stored key names its
 * table by id, and the id is derived from the canonical description. The golden values
 * below were computed once and pinned; if one changes, existing databases can no longer
 * find their tables, so a change here must be a deliberate format change.
 */
class TableIdTest {
  record Account(String owner, long balance, Optional<String> nickname) {}

  static final Codec<Account> ACCOUNT = Codecs.record("test.Account",
      field("owner", utf8(), Account::owner), field("balance", i64(), Account::balance),
      field("nickname", optional(utf8()), Account::nickname), Account::new);

  record OwnerKey(String owner, long revision) {}

  static final KeyCodec<OwnerKey> OWNER_KEY = Codecs.keyRecord("test.OwnerKey",
      field("owner", keyUtf8(), OwnerKey::owner), field("revision", u64(), OwnerKey::revision), OwnerKey::new);

  static final ContentTable<Account> ACCOUNTS = ContentTable.of("test.Account", 1, ACCOUNT);
  static final IntentTable<OwnerKey, Digest> ACCOUNTS_BY_OWNER = IntentTable.of("test.AccountByOwner", 1, OWNER_KEY, digest());

  sealed interface Event permits Opened, Moved {}

  record Opened(String owner) implements Event {}

  record Moved(long amount, List<String> notes) implements Event {}

  static final Codec<Event> EVENT = Codecs.union("test.Event", Event.class,
      Codecs.variant(2, "moved", Moved.class, Codecs.record("test.Moved",
          field("amount", varI64(), Moved::amount), field("notes", list(utf8()), Moved::notes), Moved::new)),
      Codecs.variant(0, "opened", Opened.class, Codecs.record("test.Opened", field("owner", utf8(), Opened::owner), Opened::new)));

  record Ledger(Map<String, List<Event>> events, Optional<Bytes> checksum, int count) {}

  static final Codec<Ledger> LEDGER = Codecs.record("test.Ledger",
      field("events", map(keyUtf8(), list(EVENT)), Ledger::events),
      field("checksum", optional(fixedBytes(4)), Ledger::checksum),
      field("count", varU32(), Ledger::count), Ledger::new);

  // ------------------------------------------------------------ golden values

  // Cross-checked outside Java: sha256("bulwark/table-id/1\n" + description), first 8 bytes.

  @Test
  void contentTableIdIsPinned() {
    assertThat(ACCOUNTS.description())
        .isEqualTo("content test.Account v1 value=record test.Account{owner:utf8,balance:i64,nickname:optional<utf8>}");
    assertThat(ACCOUNTS.id().hex()).isEqualTo("3529d24837c1dec8");
  }

  @Test
  void intentTableIdIsPinned() {
    assertThat(ACCOUNTS_BY_OWNER.description())
        .isEqualTo("intent test.AccountByOwner v1 key=record test.OwnerKey{owner:keyutf8,revision:u64} value=sha256");
    assertThat(ACCOUNTS_BY_OWNER.id().hex()).isEqualTo("35604ac2eea61af6");
  }

  @Test
  void nestedTypeRenderingIsPinned() {
    assertThat(LEDGER.type().render()).isEqualTo("record test.Ledger{"
        + "events:map<keyutf8,list<union test.Event{0=opened:record test.Opened{owner:utf8},"
        + "2=moved:record test.Moved{amount:vari64,notes:list<utf8>}}>>,"
        + "checksum:optional<bytes[4]>,"
        + "count:varu32}");
    ContentTable<Ledger> ledgers = ContentTable.of("test.Ledger", 7, LEDGER);
    assertThat(ledgers.id().hex()).isEqualTo("865bee58730f6964");
  }

  @Test
  void deriveIsTheFirstEightBytesOfADomainSeparatedSha256() {
    String description = ACCOUNTS.description();
    Digest full = Digest.sha256(("bulwark/table-id/1\n" + description).getBytes(StandardCharsets.UTF_8));
    assertThat(TableId.derive(description).hex()).isEqualTo(full.hex().substring(0, 16));
    assertThat(TableId.derive(description)).isEqualTo(ACCOUNTS.id());
  }

  // ------------------------------------------------------------ what changes an id

  record Point(long x, long y) {}

  @Test
  void sameShapeDifferentRecordNameGivesDifferentIds() {
    Codec<Point> a = Codecs.record("test.PointA", field("x", i64(), Point::x), field("y", i64(), Point::y), Point::new);
    Codec<Point> b = Codecs.record("test.PointB", field("x", i64(), Point::x), field("y", i64(), Point::y), Point::new);
    assertThat(a.encode(new Point(1, 2))).isEqualTo(b.encode(new Point(1, 2))); // same bytes...
    assertThat(ContentTable.of("test.Points", 1, a).id()).isNotEqualTo(ContentTable.of("test.Points", 1, b).id()); // ...other id
  }

  @Test
  void everyPartOfTheDescriptionChangesTheId() {
    Codec<Point> base = Codecs.record("test.Point", field("x", i64(), Point::x), field("y", i64(), Point::y), Point::new);
    Set<TableId> ids = new HashSet<>();
    ids.add(ContentTable.of("test.Points", 1, base).id());
    ids.add(ContentTable.of("test.Points", 2, base).id()); // version bump
    ids.add(ContentTable.of("test.Points2", 1, base).id()); // table name
    ids.add(IntentTable.of("test.Points", 1, u64(), base).id()); // kind
    ids.add(IntentTable.of("test.Points", 1, i64(), base).id()); // key type
    ids.add(ContentTable.of("test.Points", 1,
        Codecs.record("test.Point", field("x", i64(), Point::x), field("z", i64(), Point::y), Point::new)).id()); // field name
    ids.add(ContentTable.of("test.Points", 1,
        Codecs.record("test.Point", field("x", i64(), Point::x), field("y", varI64(), Point::y), Point::new)).id()); // field type
    ids.add(ContentTable.of("test.Points", 1,
        Codecs.record("test.Point", field("y", i64(), Point::y), field("x", i64(), Point::x), (y, x) -> new Point(x, y))).id()); // field order
    ids.add(ContentTable.of("test.Points", 1, optional(base)).id()); // wrapper
    assertThat(ids).hasSize(9);
    // ...and the same description always gives the same id.
    assertThat(ContentTable.of("test.Points", 1, base).id())
        .isEqualTo(ContentTable.of("test.Points", 1,
            Codecs.record("test.Point", field("x", i64(), Point::x), field("y", i64(), Point::y), Point::new)).id());
  }

  @Test
  void unionTagsAndVariantNamesAreInTheDescription() {
    Codec<Event> renumbered = Codecs.union("test.Event", Event.class,
        Codecs.variant(1, "moved", Moved.class, Codecs.record("test.Moved",
            field("amount", varI64(), Moved::amount), field("notes", list(utf8()), Moved::notes), Moved::new)),
        Codecs.variant(0, "opened", Opened.class, Codecs.record("test.Opened", field("owner", utf8(), Opened::owner), Opened::new)));
    assertThat(renumbered.type().render()).isNotEqualTo(EVENT.type().render());
    assertThat(ContentTable.of("test.Events", 1, renumbered).id()).isNotEqualTo(ContentTable.of("test.Events", 1, EVENT).id());
    // Variants render in tag order whatever order they were declared in.
    assertThat(EVENT.type().render()).startsWith("union test.Event{0=opened:");
  }

  @Test
  void primitiveNamesArePinned() {
    assertThat(List.of(Codecs.u8(), Codecs.i32(), i64(), u64(), Codecs.varU64(), varI64(), varU32(), bool(),
        Codecs.bytes(), utf8(), digest(), Codecs.keyBytes(), keyUtf8(), fixedBytes(16)).stream()
        .map(c -> c.type().render()).toList())
        .containsExactly("u8", "i32", "i64", "u64", "varu64", "vari64", "varu32", "bool", "bytes", "utf8", "sha256",
            "keybytes", "keyutf8", "bytes[16]");
    assertThat(map(utf8(), list(optional(bool()))).type().render()).isEqualTo("map<utf8,list<optional<bool>>>");
  }

  @Test
  void namesAreChecked() {
    for (String bad : new String[] {"", "1abc", "a b", "a{b", "a:b", "a,b", "a<b", ".a", "é", "a".repeat(129)}) {
      assertThatThrownBy(() -> TypeDescription.checkName(bad)).as("name '%s'", bad).isInstanceOf(IllegalArgumentException.class);
    }
    for (String good : new String[] {"a", "A.b_c-d9", "x".repeat(128)}) {
      assertThat(TypeDescription.checkName(good)).isEqualTo(good);
    }
    assertThatThrownBy(() -> ContentTable.of("bad name", 1, ACCOUNT)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ContentTable.of("test.Account", 0, ACCOUNT)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> IntentTable.of("test.X", 0, u64(), ACCOUNT)).isInstanceOf(IllegalArgumentException.class);
  }

  // ------------------------------------------------------------ the id as bytes

  @Test
  void tableIdBytesAreBigEndianAndOrderedUnsigned() {
    TableId id = new TableId(0x0102030405060708L);
    assertThat(id.hex()).isEqualTo("0102030405060708");
    assertThat(id.toString()).isEqualTo("0102030405060708");
    assertThat(id.prefix()).isEqualTo(Bytes.fromHex("0102030405060708"));
    assertThat(TableId.read(Bytes.fromHex("0102030405060708ffee"))).isEqualTo(id);
    assertThatThrownBy(() -> TableId.read(Bytes.fromHex("01020304050607"))).isInstanceOf(IllegalArgumentException.class);
    TableId high = new TableId(-1L);
    assertThat(high.compareTo(id)).isPositive(); // unsigned, like the key bytes
    assertThat(high.prefix().compareTo(id.prefix())).isPositive();
    assertThat(TableId.META.hex()).isEqualTo("0000000000000000");
    assertThat(ACCOUNTS.id()).isNotEqualTo(TableId.META);
  }

  @Test
  void contentKeysAreTableIdThenDigest() {
    Account alice = new Account("alice", 10, Optional.empty());
    ContentKey key = ACCOUNTS.keyOf(alice);
    assertThat(key.table()).isEqualTo(ACCOUNTS.id());
    assertThat(key.digest()).isEqualTo(Digest.sha256(ACCOUNT.encode(alice)));
    Bytes raw = key.toBytes();
    assertThat(raw.length()).isEqualTo(ContentKey.LENGTH).isEqualTo(40);
    assertThat(raw.slice(0, 8)).isEqualTo(ACCOUNTS.id().prefix());
    assertThat(ContentKey.fromBytes(raw)).isEqualTo(key);
    assertThat(key.toString()).isEqualTo(ACCOUNTS.id().hex() + ":" + key.digest().hex());
    assertThatThrownBy(() -> ContentKey.fromBytes(raw.slice(0, 39))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void intentKeysAreTableIdThenKeyEncoding() {
    OwnerKey owner = new OwnerKey("bob", 3);
    IntentKey key = ACCOUNTS_BY_OWNER.keyOf(owner);
    assertThat(key.toBytes()).isEqualTo(ACCOUNTS_BY_OWNER.id().prefix().concat(OWNER_KEY.encode(owner)));
    assertThat(key.toBytes().hex()).endsWith("626f620001" + "0000000000000003");
    assertThat(ACCOUNTS_BY_OWNER.decodeKey(key.toBytes())).isEqualTo(owner);
    assertThat(key.toString()).isEqualTo(ACCOUNTS_BY_OWNER.id().hex() + "/" + OWNER_KEY.encode(owner).hex());
  }
}
