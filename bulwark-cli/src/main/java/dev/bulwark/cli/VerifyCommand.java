package dev.bulwark.cli;

import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.merkle.ConsistencyProof;
import dev.bulwark.core.receipt.AuditResult;
import dev.bulwark.core.receipt.Auditor;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.ReceiptJson;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.core.receipt.Verification;
import dev.bulwark.store.keys.KeyFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Offline checks a user or auditor runs with nothing but the operator's public key. Exit
 * status: 0 valid, 1 invalid (one line names the failed check), 2 unreadable input.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = "Check receipts and batch heads offline against the operator's public key.",
    subcommands = {VerifyCommand.ReceiptCheck.class, VerifyCommand.ConsistencyCheck.class})
final class VerifyCommand implements Runnable {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static PublicKey operatorKey(Path path) {
    return KeyFiles.readPublicKey(path);
  }

  /** {@code bulwark receipt verify FILE}: the same check as {@code bulwark verify receipt FILE}. */
  @Command(name = "receipt", mixinStandardHelpOptions = true, description = "Receipts.",
      subcommands = {ReceiptVerifyAlias.class})
  static final class ReceiptCommand implements Runnable {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      spec.commandLine().usage(spec.commandLine().getOut());
    }
  }

  @Command(name = "verify", mixinStandardHelpOptions = true,
      description = {"Verify a receipt (JSON, as docs/receipts.md describes).",
          "Exit 0 when valid, 1 when a check fails, 2 when a file cannot be read."})
  static final class ReceiptVerifyAlias extends ReceiptCheckBase {}

  @Command(name = "receipt", mixinStandardHelpOptions = true,
      description = {"Verify a receipt (JSON, as docs/receipts.md describes).",
          "Exit 0 when valid, 1 when a check fails, 2 when a file cannot be read."})
  static final class ReceiptCheck extends ReceiptCheckBase {}

  /** The receipt check, shared by 'verify receipt' and 'receipt verify'. */
  abstract static class ReceiptCheckBase implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The receipt.")
    Path file;

    @Option(names = "--operator-key", required = true, paramLabel = "PUB",
        description = "The operator's public key: a PEM file (as `bulwark keys generate` writes) or a file holding 64 hex digits.")
    Path operatorKeyFile;

    @Override
    public Integer call() {
      PublicKey key = operatorKey(operatorKeyFile);
      Receipt receipt = ReceiptJson.readReceipt(InputFiles.readText(file, "receipt"));
      Verification result = receipt.verify(key);
      PrintWriter out = spec.commandLine().getOut();
      var c = receipt.confirmation();
      String mode = receipt instanceof Receipt.PerBatch ? "per-batch" : "per-request";
      switch (result) {
        case Verification.Valid v -> {
          int stateProofs = receipt instanceof Receipt.PerBatch pb ? pb.state().size() : 0;
          out.printf("valid: %s receipt of operator '%s', batch %d, request %d%s (key %s)%n", mode, c.operatorId(),
              c.batchNumber(), c.indexInBatch(),
              stateProofs == 0 ? "" : ", " + stateProofs + " state proof" + (stateProofs == 1 ? "" : "s"),
              key.fingerprint());
          return 0;
        }
        case Verification.Invalid invalid -> {
          out.println("invalid: " + invalid.failedCheck());
          return 1;
        }
      }
    }
  }

  @Command(name = "consistency", mixinStandardHelpOptions = true,
      description = {"Check that two signed batch heads describe one history, given an RFC 9162 consistency proof "
          + "between their log sizes.",
          "Exit 0 when consistent, 1 on a fork or a rejected proof (the line says which), 2 when a file cannot be read."})
  static final class ConsistencyCheck implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "HEAD1", description = "A signed batch head.")
    Path head1;

    @Parameters(index = "1", paramLabel = "HEAD2", description = "Another signed batch head of the same operator.")
    Path head2;

    @Parameters(index = "2", paramLabel = "PROOF", description = "The consistency proof between their log sizes.")
    Path proofFile;

    @Option(names = "--operator-key", required = true, paramLabel = "PUB", description = "The operator's public key file.")
    Path operatorKeyFile;

    @Override
    public Integer call() {
      PublicKey key = operatorKey(operatorKeyFile);
      SignedBatchHead a = ReceiptJson.readHead(InputFiles.readText(head1, "head"));
      SignedBatchHead b = ReceiptJson.readHead(InputFiles.readText(head2, "head"));
      ConsistencyProof proof = ReceiptJson.readConsistencyProof(InputFiles.readText(proofFile, "proof"));
      AuditResult result = Auditor.audit(a, b, proof, key);
      PrintWriter out = spec.commandLine().getOut();
      return switch (result) {
        case AuditResult.Consistent r -> {
          out.println("consistent: " + r.summary());
          yield 0;
        }
        case AuditResult.Fork r -> {
          out.println("fork: " + r.summary() + " (both heads are validly signed: keep them as evidence)");
          yield 1;
        }
        case AuditResult.ProofRejected r -> {
          out.println("proof rejected: " + r.summary());
          yield 1;
        }
        case AuditResult.Unverifiable r -> {
          out.println("unverifiable: " + r.summary());
          yield 1;
        }
      };
    }
  }
}
