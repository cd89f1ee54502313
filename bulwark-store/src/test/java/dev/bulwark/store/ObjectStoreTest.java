package dev.bulwark.store;

import static dev.bulwark.core.codec.Codecs.field;
import static dev.bulwark.store.StoreTesting.scanAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.codec.KeyCodec;
import dev.bulwark.core.kv.Entry;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.table.ContentKey;
import dev.bulwark.core.table.ContentTable;
import dev.bulwark.core.table.IntentTable;
import dev.bulwark.core.table.KeyPrefix;
import dev.bulwark.core.table.TableId;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The typed object store over both backends: content and intent tables, transactions, the meta table. */
class ObjectStoreTest {
  record Account(String owner, long balance, List<String> tags) {}

  record Revision(String address, long revision) {}

  static final Codec<Account> ACCOUNT = Codecs.record("test.Account",
      field("owner", Codecs.utf8(), Account::owner),
      field("balance", Codecs.varI64(), Account::balance),
      field("tags", Codecs.list(Codecs.utf8()), Account::tags),
      Account::new);

  /** The same record name and table as {@link #ACCOUNT}, but a field changed type: a schema change. */
  static final Codec<Account> ACCOUNT_CHANGED = Codecs.record("test.Account",
      field("owner", Codecs.utf8(), Account::owner),
      field("balance", Codecs.i64(), Account::balance),
      field("tags", Codecs.list(Codecs.utf8()), Account::tags),
      Account::new);

  static final KeyCodec<Revision> REVISION = Codecs.keyRecord("test.Revision",
      field("address", Codecs.keyUtf8(), Revision::address),
      field("revision", Codecs.i64(), Revision::revision),
      Revision::new);

  static final ContentTable<Account> ACCOUNTS = ContentTable.of("test.accounts", 1, ACCOUNT);
  static final IntentTable<Revision, String> HISTORY = IntentTable.of("test.history", 1, REVISION, Codecs.utf8());

  @TempDir Path dir;

  private StoreConfig config(Backend backend) {
    return StoreConfig.defaults(dir.resolve("db")).withBackend(backend).withDurability(Durability.NO_SYNC);
  }

  private ObjectStore open(Backend backend) {
    return ObjectStore.open(config(backend), List.of(ACCOUNTS, HISTORY));
  }

  private static List<Entry> tableEntries(ObjectStore objects, TableId table) {
    return scanAll(objects.store(), KeyRange.prefix(table.prefix()));
  }

  private static KeyPrefix addressPrefix(String address) {
    return KeyPrefix.of(Codecs.keyUtf8(), address);
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void contentPutReturnsItsKeyAndGetReturnsAnEqualValue(Backend backend) {
    Account alice = new Account("alice", -42, List.of("a", "", "ünïcødé"));
    ContentKey key;
    try (ObjectStore objects = open(backend)) {
      key = objects.put(ACCOUNTS, alice);
      assertThat(key).isEqualTo(ACCOUNTS.keyOf(alice));
      assertThat(key.table()).isEqualTo(ACCOUNTS.id());
      assertThat(objects.get(ACCOUNTS, key)).contains(alice);

      objects.cache().invalidateAll();
      assertThat(objects.get(ACCOUNTS, key)).as("loaded from the store, not the cache").contains(alice);
      assertThat(objects.get(ACCOUNTS, ACCOUNTS.keyOf(new Account("nobody", 0, List.of())))).isEmpty();
    }
    try (ObjectStore objects = open(backend)) {
      assertThat(objects.get(ACCOUNTS, key)).as("after reopen").contains(alice);
      assertThat(ACCOUNTS.get(objects.store(), key)).as("read through the table directly").contains(alice);
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void equalValuesCollapseToOneEntry(Backend backend) {
    try (ObjectStore objects = open(backend)) {
      ContentKey first = objects.put(ACCOUNTS, new Account("bob", 7, List.of("x")));
      ContentKey second = objects.put(ACCOUNTS, new Account("bob", 7, List.of("x")));
      ContentKey third = objects.write(tx -> ACCOUNTS.put(tx, new Account("bob", 7, List.of("x"))));
      assertThat(second).isEqualTo(first);
      assertThat(third).isEqualTo(first);
      assertThat(tableEntries(objects, ACCOUNTS.id())).hasSize(1);

      ContentKey other = objects.put(ACCOUNTS, new Account("bob", 8, List.of("x")));
      assertThat(other).isNotEqualTo(first);
      assertThat(tableEntries(objects, ACCOUNTS.id())).hasSize(2);
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void intentRowsOfOneAddressComeBackInRevisionOrder(Backend backend) {
    long[] revisions = {5, -1, 0, Long.MAX_VALUE, 3, Long.MIN_VALUE, 256, 255};
    try (ObjectStore objects = open(backend)) {
      for (long r : revisions) {
        objects.put(HISTORY, new Revision("alice", r), "alice@" + r);
        objects.put(HISTORY, new Revision("alic", r), "alic@" + r);
        objects.put(HISTORY, new Revision("alice\u0000", r), "alice0@" + r);
        objects.put(HISTORY, new Revision("alice2", r), "alice2@" + r);
      }
      objects.put(HISTORY, new Revision("bob", 1), "bob@1");
      objects.put(HISTORY, new Revision("", 1), "empty@1");

      List<IntentTable.Row<Revision, String>> rows = objects.scan(HISTORY, addressPrefix("alice"), 100);
      assertThat(rows).extracting(row -> row.key().address()).containsOnly("alice");
      assertThat(rows).extracting(row -> row.key().revision())
          .containsExactly(Long.MIN_VALUE, -1L, 0L, 3L, 5L, 255L, 256L, Long.MAX_VALUE);
      assertThat(rows).allSatisfy(row -> assertThat(row.value()).isEqualTo("alice@" + row.key().revision()));

      assertThat(objects.scan(HISTORY, addressPrefix("alice"), 3)).extracting(row -> row.key().revision())
          .containsExactly(Long.MIN_VALUE, -1L, 0L);
      assertThat(objects.scan(HISTORY, addressPrefix("alice"), 0)).isEmpty();
      assertThat(objects.scan(HISTORY, addressPrefix("carol"), 100)).isEmpty();
      assertThat(objects.scan(HISTORY, addressPrefix("bob"), 100))
          .containsExactly(new IntentTable.Row<>(new Revision("bob", 1), "bob@1"));
      assertThat(objects.scan(HISTORY, addressPrefix("alice").then(Codecs.i64(), 3L), 100))
          .as("a prefix of both key fields").containsExactly(new IntentTable.Row<>(new Revision("alice", 3), "alice@3"));

      List<IntentTable.Row<Revision, String>> all = objects.scan(HISTORY, KeyPrefix.NONE, 1000);
      assertThat(all).hasSize(4 * revisions.length + 2);
      assertThat(all).extracting(IntentTable.Row::key).isSortedAccordingTo(
          Comparator.comparing(Revision::address).thenComparing(Revision::revision));

      assertThat(objects.get(HISTORY, new Revision("alice", 256))).contains("alice@256");
      assertThat(objects.get(HISTORY, new Revision("alice", 4))).isEmpty();
      objects.put(HISTORY, new Revision("alice", 256), "rewritten");
      assertThat(objects.get(HISTORY, new Revision("alice", 256))).contains("rewritten");
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void writeCommitsTheTransactionAtomicallyAndHonoursSavepoints(Backend backend) {
    Account carol = new Account("carol", 100, List.of());
    try (ObjectStore objects = open(backend)) {
      ContentKey key = objects.write(tx -> {
        ContentKey k = ACCOUNTS.put(tx, carol);
        HISTORY.put(tx, new Revision("carol", 1), "one");

        Transaction.Savepoint savepoint = tx.savepoint();
        HISTORY.put(tx, new Revision("carol", 2), "rolled back");
        HISTORY.delete(tx, new Revision("carol", 1));
        tx.rollbackTo(savepoint);

        assertThatThrownBy(() -> tx.inSavepoint(() -> {
          HISTORY.put(tx, new Revision("carol", 3), "thrown away");
          throw new IllegalStateException("request fails");
        })).hasMessage("request fails");

        tx.inSavepoint(() -> {
          HISTORY.put(tx, new Revision("carol", 4), "four");
          return null;
        });

        assertThat(HISTORY.get(tx, new Revision("carol", 1))).as("the transaction reads its own writes").contains("one");
        assertThat(objects.get(HISTORY, new Revision("carol", 1))).as("nothing is visible before commit").isEmpty();
        assertThat(objects.store().get(k.toBytes())).isEmpty();
        return k;
      });

      assertThat(objects.get(ACCOUNTS, key)).contains(carol);
      assertThat(objects.scan(HISTORY, addressPrefix("carol"), 10)).containsExactly(
          new IntentTable.Row<>(new Revision("carol", 1), "one"),
          new IntentTable.Row<>(new Revision("carol", 4), "four"));
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aThrowingWriteBodyWritesNothing(Backend backend) {
    try (ObjectStore objects = open(backend)) {
      objects.put(HISTORY, new Revision("dave", 1), "kept");
      List<Entry> before = scanAll(objects.store());

      assertThatThrownBy(() -> objects.write(tx -> {
        ACCOUNTS.put(tx, new Account("dave", 1, List.of()));
        HISTORY.put(tx, new Revision("dave", 2), "never");
        HISTORY.delete(tx, new Revision("dave", 1));
        tx.inSavepoint(() -> {
          HISTORY.put(tx, new Revision("dave", 3), "never either");
          return null;
        });
        throw new IllegalArgumentException("abort");
      })).isInstanceOf(IllegalArgumentException.class).hasMessage("abort");

      assertThat(scanAll(objects.store())).isEqualTo(before);
      assertThatThrownBy(() -> objects.write(tx -> {
        HISTORY.put(tx, new Revision("dave", 4), "open savepoint");
        tx.savepoint();
        return null;
      })).as("committing with a savepoint open fails").isInstanceOf(IllegalStateException.class);
      assertThat(scanAll(objects.store())).isEqualTo(before);
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void metaTableListsRegisteredTables(Backend backend) {
    try (ObjectStore objects = open(backend)) {
      assertThat(objects.storedTables()).containsExactlyInAnyOrder(
          new ObjectStore.TableInfo(ACCOUNTS.name(), ACCOUNTS.version(), ACCOUNTS.description()),
          new ObjectStore.TableInfo(HISTORY.name(), HISTORY.version(), HISTORY.description()));
      assertThat(objects.storedTables().getFirst().name())
          .as("listed in table id order")
          .isEqualTo(ACCOUNTS.id().compareTo(HISTORY.id()) < 0 ? ACCOUNTS.name() : HISTORY.name());
      objects.register(List.of(ACCOUNTS));
      assertThat(objects.storedTables()).as("registering again adds nothing").hasSize(2);
    }
    try (ObjectStore objects = ObjectStore.open(config(backend), List.of(ACCOUNTS))) {
      assertThat(objects.storedTables()).as("tables not passed on reopen stay recorded").hasSize(2);
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void changedCodecUnderTheSameVersionIsASchemaConflict(Backend backend) {
    Account erin = new Account("erin", 5, List.of("t"));
    ContentKey key;
    try (ObjectStore objects = open(backend)) {
      key = objects.put(ACCOUNTS, erin);
    }

    ContentTable<Account> changedSameVersion = ContentTable.of("test.accounts", 1, ACCOUNT_CHANGED);
    assertThat(changedSameVersion.description()).isNotEqualTo(ACCOUNTS.description());
    assertThatThrownBy(() -> ObjectStore.open(config(backend), List.of(changedSameVersion, HISTORY)))
        .isInstanceOf(SchemaConflictException.class)
        .hasMessageContaining("test.accounts")
        .hasMessageContaining("version 1");

    // The failed open released the database: it opens again, and a version bump is accepted.
    ContentTable<Account> changedNextVersion = ContentTable.of("test.accounts", 2, ACCOUNT_CHANGED);
    try (ObjectStore objects = ObjectStore.open(config(backend), List.of(changedNextVersion, ACCOUNTS, HISTORY))) {
      assertThat(objects.storedTables()).extracting(ObjectStore.TableInfo::name, ObjectStore.TableInfo::version)
          .containsExactlyInAnyOrder(
              tuple("test.accounts", 1),
              tuple("test.accounts", 2),
              tuple("test.history", 1));
      assertThat(objects.get(ACCOUNTS, key)).as("old data still reads with the old version").contains(erin);
      ContentKey newKey = objects.put(changedNextVersion, erin);
      assertThat(newKey.table()).isNotEqualTo(key.table());
      assertThat(objects.get(changedNextVersion, newKey)).contains(erin);
    }

    assertThatThrownBy(() -> ObjectStore.open(config(backend), List.of(changedSameVersion)))
        .as("still a conflict after the bump").isInstanceOf(SchemaConflictException.class)
        .hasMessageContaining("test.accounts");
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void twoDescriptionsOfOneNameAndVersionInOneRegistrationConflict(Backend backend) {
    ContentTable<Account> changedSameVersion = ContentTable.of("test.accounts", 1, ACCOUNT_CHANGED);
    assertThatThrownBy(() -> ObjectStore.open(config(backend), List.of(ACCOUNTS, changedSameVersion)))
        .as("registering both at once would leave a database no program can open")
        .isInstanceOf(SchemaConflictException.class)
        .hasMessageContaining("test.accounts");
    try (ObjectStore objects = ObjectStore.open(config(backend), List.of(ACCOUNTS))) {
      assertThat(objects.storedTables()).as("the failed registration recorded nothing")
          .containsExactly(new ObjectStore.TableInfo(ACCOUNTS.name(), ACCOUNTS.version(), ACCOUNTS.description()));
    }
  }

  @Test
  void configValidatesItsSettings() {
    assertThatThrownBy(() -> StoreConfig.defaults(dir).withCacheBytesMax(-1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("store.cacheBytesMax");
    assertThatThrownBy(() -> StoreConfig.defaults(dir).withCacheBytesMax((1L << 40) + 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("store.cacheBytesMax");
    assertThatThrownBy(() -> new StoreConfig(null, Backend.ROCKSDB, 0, Durability.SYNC))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("store.directory");
    assertThatThrownBy(() -> StoreConfig.defaults(dir).withBackend(null))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("store.backend");
    assertThatThrownBy(() -> StoreConfig.defaults(dir).withDurability(null))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("store.durability");
    StoreConfig defaults = StoreConfig.defaults(dir);
    assertThat(defaults.backend()).isEqualTo(Backend.ROCKSDB);
    assertThat(defaults.durability()).isEqualTo(Durability.SYNC);
    assertThat(defaults.cacheBytesMax()).isEqualTo(StoreConfig.CACHE_BYTES_DEFAULT);
  }
}
