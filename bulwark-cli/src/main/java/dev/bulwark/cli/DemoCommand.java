package dev.bulwark.cli;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.CorruptionException;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.codec.KeyCodec;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.table.ContentKey;
import dev.bulwark.core.table.ContentTable;
import dev.bulwark.core.table.IntentTable;
import dev.bulwark.core.table.KeyPrefix;
import dev.bulwark.core.table.Ref;
import dev.bulwark.core.table.Table;
import dev.bulwark.store.Backend;
import dev.bulwark.store.CacheStats;
import dev.bulwark.store.KeyValueStore;
import dev.bulwark.store.ObjectStore;
import dev.bulwark.store.StoreConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A guided tour of the foundation on a tiny ledger: typed tables, content and intent keys,
 * a batch in one transaction where a failing request rolls back alone, lazy references
 * through the cache, reopening, and corruption detection. Later issues replace this with the
 * replicated demo.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Walk through Bulwark's storage foundation on a tiny ledger.")
final class DemoCommand implements Runnable {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--dir", description = "Database directory to use and keep (default: a temporary one, deleted at the end).")
  Path directory;

  @Option(names = "--backend", defaultValue = "rocksdb", description = "Storage engine: rocksdb or leveldb (default: ${DEFAULT-VALUE}).",
      converter = BackendConverter.class)
  Backend backend;

  /** One account's state at one revision: content-addressed, so equal states share a key. */
  record AccountState(String owner, long balance, long revision) {}

  /** Intent key: all revisions of one owner are one contiguous, ordered range. */
  record RevisionKey(String owner, long revision) {}

  static final Codec<AccountState> STATE = Codecs.record("demo.AccountState",
      Codecs.field("owner", Codecs.utf8(), AccountState::owner),
      Codecs.field("balance", Codecs.i64(), AccountState::balance),
      Codecs.field("revision", Codecs.varU64(), AccountState::revision),
      AccountState::new);

  static final KeyCodec<RevisionKey> REVISION_KEY = Codecs.keyRecord("demo.RevisionKey",
      Codecs.field("owner", Codecs.keyUtf8(), RevisionKey::owner),
      Codecs.field("revision", Codecs.i64(), RevisionKey::revision),
      RevisionKey::new);

  static final ContentTable<AccountState> STATES = ContentTable.of("demo.account-state", 1, STATE);
  static final IntentTable<RevisionKey, Digest> REVISIONS =
      IntentTable.of("demo.account-revision", 1, REVISION_KEY, Codecs.digest());
  static final List<Table<?>> TABLES = List.of(STATES, REVISIONS);

  private PrintWriter out;

  @Override
  public void run() {
    out = spec.commandLine().getOut();
    boolean temporary = directory == null;
    Path dir = temporary ? createTempDir() : directory;
    try {
      tour(dir);
    } finally {
      if (temporary) {
        deleteTree(dir);
      }
      out.flush();
    }
  }

  private void tour(Path dir) {
    StoreConfig config = StoreConfig.defaults(dir).withBackend(backend);
    step("1. Open a " + backend.name().toLowerCase() + " database in " + dir);
    ContentKey aliceKey;
    try (ObjectStore store = ObjectStore.open(config, TABLES)) {
      for (Table<?> t : TABLES) {
        out.printf("   table %-24s id %s  %s%n", t.name(), t.id(), t.description());
      }

      step("2. Open accounts in one transaction: alice 100, bob 50");
      store.write(tx -> {
        openAccount(tx, "alice", 100);
        openAccount(tx, "bob", 50);
        return null;
      });

      step("3. One batch, three transfers, each in its own savepoint");
      WriteSet batch;
      try (var snapshot = store.snapshot()) {
        Transaction tx = new Transaction(snapshot);
        transferInSavepoint(tx, "alice", "bob", 30);
        transferInSavepoint(tx, "bob", "alice", 500);
        transferInSavepoint(tx, "bob", "alice", 5);
        batch = tx.commit();
      }
      store.commit(batch);
      out.printf("   batch committed atomically: %d keys, %d bytes%n", batch.size(), batch.byteSize());

      step("4. Scan alice's revisions in order (an intent-key prefix scan), values through lazy refs");
      List<IntentTable.Row<RevisionKey, Digest>> rows =
          store.scan(REVISIONS, KeyPrefix.of(Codecs.keyUtf8(), "alice"), 100);
      store.cache().invalidateAll();
      for (IntentTable.Row<RevisionKey, Digest> row : rows) {
        Ref<AccountState> ref = store.ref(STATES, new ContentKey(STATES.id(), row.value()));
        out.printf("   alice rev %d -> %s -> balance %d%n", row.key().revision(), row.value().shortHex(),
            ref.get().balance());
      }
      latest(store, "alice").get(); // a second read of the latest state: a cache hit
      CacheStats stats = store.cache().stats();
      out.printf("   cache: %d hits, %d misses, %d bytes held%n", stats.hits(), stats.misses(), stats.weightBytes());

      step("5. Content addressing: storing an equal value yields the same key");
      AccountState alice = latest(store, "alice").get();
      aliceKey = STATES.keyOf(alice);
      ContentKey again = store.put(STATES, new AccountState(alice.owner(), alice.balance(), alice.revision()));
      out.printf("   %s%n   %s  same: %b%n", aliceKey, again, aliceKey.equals(again));
    }

    step("6. Reopen: everything committed is there");
    try (ObjectStore store = ObjectStore.open(config, TABLES)) {
      long alice = latest(store, "alice").get().balance();
      long bob = latest(store, "bob").get().balance();
      out.printf("   alice %d + bob %d = %d (opened with 150)%n", alice, bob, alice + bob);
      if (alice + bob != 150) {
        throw new IllegalStateException("the demo ledger lost money: " + (alice + bob));
      }
    }

    step("7. Flip one stored byte and read it back: corruption is detected, never returned");
    try (KeyValueStore raw = backend.open(dir)) {
      Bytes stored = raw.get(aliceKey.toBytes()).orElseThrow();
      byte[] tampered = stored.toByteArray();
      tampered[tampered.length - 1] ^= 1;
      raw.write(WriteSet.builder().put(aliceKey.toBytes(), Bytes.adopt(tampered)).build(), config.durability());
    }
    try (ObjectStore store = ObjectStore.open(config, TABLES)) {
      store.get(STATES, aliceKey);
      throw new IllegalStateException("tampered bytes were returned as data");
    } catch (CorruptionException e) {
      out.println("   " + e.getMessage());
    }
    step("Done.");
  }

  private static void openAccount(Transaction tx, String owner, long balance) {
    AccountState state = new AccountState(owner, balance, 0);
    ContentKey key = STATES.put(tx, state);
    REVISIONS.put(tx, new RevisionKey(owner, 0), key.digest());
  }

  private void transferInSavepoint(Transaction tx, String from, String to, long amount) {
    try {
      tx.inSavepoint(() -> {
        debit(tx, from, amount);
        credit(tx, to, amount);
        return null;
      });
      out.printf("   %s -> %s %d: applied%n", from, to, amount);
    } catch (IllegalStateException e) {
      out.printf("   %s -> %s %d: rolled back alone (%s)%n", from, to, amount, e.getMessage());
    }
  }

  private static void debit(Transaction tx, String owner, long amount) {
    AccountState state = latestIn(tx, owner);
    if (state.balance() < amount) {
      throw new IllegalStateException(owner + " has only " + state.balance());
    }
    writeRevision(tx, new AccountState(owner, state.balance() - amount, state.revision() + 1));
  }

  private static void credit(Transaction tx, String owner, long amount) {
    AccountState state = latestIn(tx, owner);
    writeRevision(tx, new AccountState(owner, Math.addExact(state.balance(), amount), state.revision() + 1));
  }

  private static void writeRevision(Transaction tx, AccountState state) {
    ContentKey key = STATES.put(tx, state);
    REVISIONS.put(tx, new RevisionKey(state.owner(), state.revision()), key.digest());
  }

  private static AccountState latestIn(Transaction tx, String owner) {
    // The latest revision is the last key of the owner's range; the scan is bounded.
    List<IntentTable.Row<RevisionKey, Digest>> rows = REVISIONS.scan(tx, KeyPrefix.of(Codecs.keyUtf8(), owner), 10_000);
    if (rows.isEmpty()) {
      throw new IllegalStateException("no account " + owner);
    }
    Digest digest = rows.getLast().value();
    return STATES.get(tx, new ContentKey(STATES.id(), digest)).orElseThrow();
  }

  private static Optional<AccountState> latest(ObjectStore store, String owner) {
    List<IntentTable.Row<RevisionKey, Digest>> rows = store.scan(REVISIONS, KeyPrefix.of(Codecs.keyUtf8(), owner), 10_000);
    return rows.isEmpty() ? Optional.empty()
        : store.get(STATES, new ContentKey(STATES.id(), rows.getLast().value()));
  }

  private void step(String text) {
    out.println(text);
    out.flush();
  }

  private static Path createTempDir() {
    try {
      return Files.createTempDirectory("bulwark-demo-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary directory", e);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      System.err.println("bulwark: could not delete " + dir + ": " + e.getMessage());
    }
  }
}
