package dev.bulwark.cli;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.CorruptionException;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.codec.KeyCodec;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.merkle.MerkleLog;
import dev.bulwark.core.merkle.MerkleLogState;
import dev.bulwark.core.receipt.BatchHead;
import dev.bulwark.core.receipt.Confirmation;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.ReceiptJson;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.core.receipt.Verification;
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
import dev.bulwark.store.keys.KeyFiles;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A guided tour of the foundation on a tiny ledger: typed tables, content and intent keys,
 * a batch in one transaction where a failing request rolls back alone, lazy references
 * through the cache, reopening, and corruption detection. Later issues replace this with the
 * replicated demo.
 */
@Command(name = "tour", mixinStandardHelpOptions = true,
    description = "Walk through Bulwark's storage foundation (codecs, tables, transactions, receipts) on a tiny ledger.")
final class TourCommand implements Runnable {
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

  /** A transfer request, the thing a confirmation's request digest commits to. */
  record Transfer(String from, String to, long amount) {}

  static final Codec<Transfer> TRANSFER = Codecs.record("demo.Transfer",
      Codecs.field("from", Codecs.utf8(), Transfer::from),
      Codecs.field("to", Codecs.utf8(), Transfer::to),
      Codecs.field("amount", Codecs.i64(), Transfer::amount),
      Transfer::new);

  static final String OPERATOR_ID = "bulwark-demo";
  static final MerkleLog CONFIRMATION_LOG = new MerkleLog("confirmations");

  static final ContentTable<AccountState> STATES = ContentTable.of("demo.account-state", 1, STATE);
  static final IntentTable<RevisionKey, Digest> REVISIONS =
      IntentTable.of("demo.account-revision", 1, REVISION_KEY, Codecs.digest());
  static final List<Table<?>> TABLES = List.of(STATES, REVISIONS, MerkleLog.NODES, MerkleLog.SIZES);

  private PrintWriter out;

  @Override
  public void run() {
    out = spec.commandLine().getOut();
    boolean temporary = directory == null;
    Directories.requireFreshOrAbsent(directory, "the tour starts from a fresh database");
    Path dir = temporary ? Directories.temporary("bulwark-tour-") : directory;
    try {
      tour(dir);
    } finally {
      if (temporary) {
        Directories.deleteTree(dir);
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

      step("3. One batch, three transfers, each in its own savepoint; one signed head confirms them all");
      SigningKey operatorKey = SigningKey.generate(new SecureRandom());
      WriteSet batch;
      List<Receipt.PerBatch> receipts = new ArrayList<>();
      try (var snapshot = store.snapshot()) {
        Transaction tx = new Transaction(snapshot);
        List<Confirmation> confirmations = new ArrayList<>();
        confirmations.add(transferInSavepoint(tx, new Transfer("alice", "bob", 30), confirmations.size()));
        confirmations.add(transferInSavepoint(tx, new Transfer("bob", "alice", 500), confirmations.size()));
        confirmations.add(transferInSavepoint(tx, new Transfer("bob", "alice", 5), confirmations.size()));
        // The confirmation log is appended in the same transaction: batch and log commit together.
        MerkleLogState logState = CONFIRMATION_LOG.load(snapshot);
        MerkleLog.Appended appended = CONFIRMATION_LOG.appendAndProve(tx, logState,
            confirmations.stream().map(Confirmation::leafHash).toList());
        BatchHead head = new BatchHead(OPERATOR_ID, 0, appended.state().size(), appended.state().root(),
            BatchHead.ZERO, BatchHead.ZERO, System.currentTimeMillis());
        SignedBatchHead signed = SignedBatchHead.sign(head, operatorKey);
        for (int i = 0; i < confirmations.size(); i++) {
          receipts.add(new Receipt.PerBatch(confirmations.get(i), signed, appended.proofs().get(i)));
        }
        batch = tx.commit();
      }
      store.commit(batch);
      out.printf("   batch committed atomically: %d keys, %d bytes; head signed by operator key %s%n", batch.size(),
          batch.byteSize(), operatorKey.publicKey().fingerprint());
      writeReceipts(dir, operatorKey, receipts);

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

  /** Applies one transfer in its own savepoint and returns its confirmation (applied or rejected). */
  private Confirmation transferInSavepoint(Transaction tx, Transfer t, int index) {
    String result;
    try {
      tx.inSavepoint(() -> {
        debit(tx, t.from(), t.amount());
        credit(tx, t.to(), t.amount());
        return null;
      });
      result = "applied";
      out.printf("   %s -> %s %d: applied%n", t.from(), t.to(), t.amount());
    } catch (IllegalStateException e) {
      result = "rejected: " + e.getMessage();
      out.printf("   %s -> %s %d: rolled back alone (%s)%n", t.from(), t.to(), t.amount(), e.getMessage());
    }
    return new Confirmation(OPERATOR_ID, Digest.sha256(TRANSFER.encode(t)), 0, index, Digest.sha256(Bytes.utf8(result)));
  }

  /** Writes the operator's public key and each receipt as JSON, then checks them as a user would. */
  private void writeReceipts(Path dir, SigningKey operatorKey, List<Receipt.PerBatch> receipts) {
    Path receiptDir = dir.resolve("receipts");
    try {
      Files.createDirectories(receiptDir);
      KeyFiles.writePublicKey(receiptDir.resolve("operator.pub"), operatorKey.publicKey(), true);
      for (int i = 0; i < receipts.size(); i++) {
        Receipt.PerBatch r = receipts.get(i);
        Path file = receiptDir.resolve("receipt-" + i + ".json");
        Files.writeString(file, ReceiptJson.write(r));
        Verification v = r.verify(operatorKey.publicKey());
        out.printf("   %s: leaf %d of %d, %d proof hashes, %s%n", file.getFileName(), r.inclusion().leafIndex(),
            r.inclusion().treeSize(), r.inclusion().path().size(), v.isValid() ? "verifies" : v);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write receipts to " + receiptDir, e);
    }
    out.println("   check one yourself: bin/bulwark verify receipt " + receiptDir.resolve("receipt-0.json")
        + " --operator-key " + receiptDir.resolve("operator.pub") + (directory == null ? "   (keep them with --dir)" : ""));
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



}
