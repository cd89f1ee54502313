package dev.bulwark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.crypto.KeyEncoding;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.merkle.MerkleLog;
import dev.bulwark.core.merkle.MerkleLogState;
import dev.bulwark.core.receipt.BatchHead;
import dev.bulwark.core.receipt.Confirmation;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.ReceiptJson;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.store.Backend;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The bulwark command as a user runs it: output, files and exit status. */
class CommandLineTest {
  @TempDir
  Path dir;

  record Run(int exit, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cli = BulwarkCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int exit = cli.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void theTourRunsOnEveryBackend(Backend backend) {
    Path demo = dir.resolve("demo-" + backend);
    Run r = run("tour", "--backend", backend.name().toLowerCase(), "--dir", demo.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("rolled back alone", "alice 75 + bob 75 = 150", "corruption", "Done.");
    assertThat(r.out().lines().filter(l -> l.contains("verifies")).count()).isEqualTo(3);
    Run again = run("tour", "--dir", demo.toString());
    assertThat(again.exit()).isEqualTo(2);
    assertThat(again.err()).contains("is not empty");
    Run receipt = run("verify", "receipt", demo.resolve("receipts/receipt-0.json").toString(), "--operator-key",
        demo.resolve("receipts/operator.pub").toString());
    assertThat(receipt.exit()).as(receipt.err()).isZero();
  }

  @Test
  void keysGenerateWritesAPrivateKeyOnlyItsOwnerCanRead() throws IOException {
    Run r = run("keys", "generate", "--out", dir.toString(), "--name", "op");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("op.key")))).isEqualTo("rw-------");
    SigningKey key = KeyEncoding.parsePrivateKeyPem(Files.readString(dir.resolve("op.key")));
    assertThat(KeyEncoding.parsePublicKey(Files.readString(dir.resolve("op.pub")))).isEqualTo(key.publicKey());
    assertThat(r.out()).contains(key.publicKey().fingerprint());
    Run again = run("keys", "generate", "--out", dir.toString(), "--name", "op");
    assertThat(again.exit()).isEqualTo(2);
    assertThat(again.err()).contains("already exists");
    assertThat(KeyEncoding.parsePrivateKeyPem(Files.readString(dir.resolve("op.key"))).publicKey()).isEqualTo(key.publicKey());
  }

  static final ReadView EMPTY = new ReadView() {
    @Override public Optional<Bytes> get(Bytes key) {
      return Optional.empty();
    }

    @Override public Cursor scan(KeyRange range) {
      return Cursor.of(Collections.emptyIterator());
    }
  };

  /** Two batches of an operator: heads, receipts and a consistency proof written as files. */
  private SigningKey writeOperatorFiles() throws IOException {
    SigningKey key = SigningKey.generate(new SplittableRandom(1));
    Files.writeString(dir.resolve("operator.pub"), KeyEncoding.publicKeyPem(key.publicKey()));
    MerkleLog log = new MerkleLog("c");
    Transaction store = new Transaction(EMPTY);
    MerkleLogState state = MerkleLogState.EMPTY;
    List<SignedBatchHead> heads = new ArrayList<>();
    for (int batch = 0; batch < 2; batch++) {
      List<Confirmation> confirmations = new ArrayList<>();
      for (int i = 0; i < 3 + batch; i++) {
        confirmations.add(new Confirmation("op", Digest.sha256(Bytes.utf8("req" + batch + i)), batch, i,
            Digest.sha256(Bytes.utf8("ok"))));
      }
      MerkleLog.Appended appended = log.appendAndProve(store, state, confirmations.stream().map(Confirmation::leafHash).toList());
      state = appended.state();
      BatchHead head = new BatchHead("op", batch, state.size(), state.root(), BatchHead.ZERO,
          heads.isEmpty() ? BatchHead.ZERO : heads.getLast().head().hash(), 1_000 + batch);
      heads.add(SignedBatchHead.sign(head, key));
      Files.writeString(dir.resolve("head-" + batch + ".json"), ReceiptJson.write(heads.getLast()));
      Files.writeString(dir.resolve("receipt-" + batch + ".json"),
          ReceiptJson.write(new Receipt.PerBatch(confirmations.get(1), heads.getLast(), appended.proofs().get(1))));
    }
    Files.writeString(dir.resolve("proof.json"), ReceiptJson.write(log.consistencyProof(store, 3, 7)));
    // A forked head for batch 1: same key, another log.
    BatchHead h1 = heads.get(1).head();
    SignedBatchHead forked = SignedBatchHead.sign(new BatchHead("op", 1, h1.logSize(), Digest.sha256(Bytes.utf8("x")),
        h1.stateRoot(), h1.previousHeadHash(), h1.timeMs()), key);
    Files.writeString(dir.resolve("head-1-forked.json"), ReceiptJson.write(forked));
    return key;
  }

  @Test
  void verifyReceiptExitsZeroOneOrTwo() throws IOException {
    writeOperatorFiles();
    String pub = dir.resolve("operator.pub").toString();
    Run valid = run("verify", "receipt", dir.resolve("receipt-1.json").toString(), "--operator-key", pub);
    assertThat(valid.exit()).as(valid.err()).isZero();
    assertThat(valid.out()).startsWith("valid: per-batch receipt of operator 'op', batch 1, request 1");

    String text = Files.readString(dir.resolve("receipt-1.json"));
    Files.writeString(dir.resolve("tampered.json"), text.replace("\"indexInBatch\": 1", "\"indexInBatch\": 2"));
    Run invalid = run("verify", "receipt", dir.resolve("tampered.json").toString(), "--operator-key", pub);
    assertThat(invalid.exit()).isEqualTo(1);
    assertThat(invalid.out().strip()).isEqualTo("invalid: inclusion proof does not lead from the confirmation to the head's log root");

    Files.writeString(dir.resolve("broken.json"), text.substring(0, 40));
    Run malformed = run("verify", "receipt", dir.resolve("broken.json").toString(), "--operator-key", pub);
    assertThat(malformed.exit()).isEqualTo(2);
    assertThat(malformed.err()).startsWith("bulwark: invalid JSON at character").doesNotContain("Exception");

    Run missing = run("verify", "receipt", dir.resolve("nope.json").toString(), "--operator-key", pub);
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err().strip()).isEqualTo("bulwark: receipt " + dir.resolve("nope.json") + " does not exist");

    Files.write(dir.resolve("binary.json"), new byte[] {(byte) 0xC3, 0x28});
    assertThat(run("verify", "receipt", dir.resolve("binary.json").toString(), "--operator-key", pub).err())
        .contains("is not UTF-8 text");
  }

  @Test
  void verifyConsistencyReportsConsistentOrFork() throws IOException {
    writeOperatorFiles();
    String pub = dir.resolve("operator.pub").toString();
    Run consistent = run("verify", "consistency", dir.resolve("head-0.json").toString(), dir.resolve("head-1.json").toString(),
        dir.resolve("proof.json").toString(), "--operator-key", pub);
    assertThat(consistent.exit()).as(consistent.err()).isZero();
    assertThat(consistent.out()).startsWith("consistent: the log of batch 1 (7 leaves) extends the log of batch 0 (3 leaves)");

    Run fork = run("verify", "consistency", dir.resolve("head-1.json").toString(),
        dir.resolve("head-1-forked.json").toString(), dir.resolve("proof.json").toString(), "--operator-key", pub);
    assertThat(fork.exit()).isEqualTo(1);
    assertThat(fork.out()).startsWith("fork: two different signed heads for batch 1");

    Run rejected = run("verify", "consistency", dir.resolve("head-0.json").toString(),
        dir.resolve("head-1-forked.json").toString(), dir.resolve("proof.json").toString(), "--operator-key", pub);
    assertThat(rejected.exit()).isEqualTo(1);
    assertThat(rejected.out()).startsWith("proof rejected:");

    Run wrongFile = run("verify", "consistency", dir.resolve("head-0.json").toString(), dir.resolve("proof.json").toString(),
        dir.resolve("proof.json").toString(), "--operator-key", pub);
    assertThat(wrongFile.exit()).isEqualTo(2);
    assertThat(wrongFile.err()).contains("head.format: expected \"bulwark.signed-batch-head.v1\"");
  }

  @Test
  void chaosRefusesOptionsOutOfRangeBeforeStartingAnything() {
    Run both = run("chaos", "--duration", "60", "--faults", "10");
    assertThat(both.exit()).isEqualTo(2);
    assertThat(both.err()).contains("give --duration or --faults, not both");
    Run negative = run("chaos", "--faults", "10", "--min-free-mb", "-1");
    assertThat(negative.exit()).isEqualTo(2);
    assertThat(negative.err()).contains("--min-free-mb is 0 to 1000000000, not -1");
    Run huge = run("chaos", "--faults", "10", "--min-free-mb", "9223372036854775807");
    assertThat(huge.exit()).isEqualTo(2);
    assertThat(huge.err()).contains("--min-free-mb is 0 to 1000000000, not 9223372036854775807");
    Run faults = run("chaos", "--faults", "0");
    assertThat(faults.exit()).isEqualTo(2);
    assertThat(faults.err()).contains("a chaos run injects 1 to 10000 faults, not 0");
  }

  @Test
  void everySubcommandHasHelp() {
    for (String[] args : new String[][] {{"--help"}, {"demo", "--help"}, {"tour", "--help"}, {"cluster", "init", "--help"}, {"cluster", "up", "--help"},
        {"cluster", "status", "--help"}, {"cluster", "down", "--help"}, {"serve", "--help"},
        {"account", "create", "--help"}, {"bench", "--help"}, {"receipt", "verify", "--help"},
        {"cluster", "transfer-leader", "--help"}, {"cluster", "add-replica", "--help"}, {"cluster", "remove-replica", "--help"}, {"deposit", "--help"}, {"withdraw", "--help"}, {"transfer", "--help"}, {"balance", "--help"}, {"keys", "generate", "--help"},
        {"verify", "receipt", "--help"}, {"verify", "consistency", "--help"}, {"tables", "--help"}}) {
      Run r = run(args);
      assertThat(r.exit()).isZero();
      assertThat(r.out()).contains("Usage: bulwark");
    }
    Run unknown = run("frobnicate");
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.err()).contains("Unmatched argument");
  }
}
