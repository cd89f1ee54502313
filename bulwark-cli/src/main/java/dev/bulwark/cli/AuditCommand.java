package dev.bulwark.cli;

import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.json.Json;
import dev.bulwark.core.json.JsonReader;
import dev.bulwark.core.merkle.ConsistencyProof;
import dev.bulwark.core.receipt.AuditResult;
import dev.bulwark.core.receipt.Auditor;
import dev.bulwark.core.receipt.ReceiptJson;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.store.keys.KeyFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * An auditor's view of a replica's transparency API: every signed batch head in order, each
 * one's signature, its link to the previous head, and a consistency proof that its log extends
 * the previous one's. A contradiction is a fork: both signed heads are printed as evidence.
 * With {@code --state} the last audited head is kept between runs, so a history rewritten
 * since the last run is caught too.
 */
@Command(name = "audit", mixinStandardHelpOptions = true,
    description = {"Follow a replica's signed batch heads and check that they form one append-only history.",
        "Exit 0: consistent; 1: a fork or a rejected proof (the evidence is printed); 2: could not check."})
final class AuditCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--replica", required = true, paramLabel = "URL",
      description = "A replica's admin URL, e.g. http://127.0.0.1:7201 (see 'bulwark serve' output).")
  URI replica;

  @Option(names = "--operator-key", required = true, paramLabel = "PUB", description = "The operator's public key (PEM).")
  Path operatorKey;

  @Option(names = "--state", paramLabel = "FILE",
      description = "Remember the last audited head here, and start from it (a head the replica no longer agrees with is a fork).")
  Path state;

  @Option(names = "--from", defaultValue = "0", description = "Start at this batch when there is no state (default ${DEFAULT-VALUE}).")
  long from;

  @Option(names = "--follow", description = "Keep following new heads until interrupted.")
  boolean follow;

  @Option(names = "--interval", defaultValue = "2", description = "Seconds between rounds with --follow (1 to 3600, default ${DEFAULT-VALUE}).")
  int intervalSeconds;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private PublicKey key;
  private long checked;

  /** Thrown when the audit found a contradiction; the evidence was already printed. */
  private static final class Forked extends Exception {
    private static final long serialVersionUID = 1L;

    Forked(String message) {
      super(message);
    }
  }

  @Override
  public Integer call() throws Exception {
    if (intervalSeconds < 1 || intervalSeconds > 3600 || from < 0) {
      throw new UserError("--interval must be 1 to 3600 seconds and --from at least 0");
    }
    key = KeyFiles.readPublicKey(operatorKey);
    PrintWriter out = spec.commandLine().getOut();
    Optional<SignedBatchHead> last = state != null && Files.exists(state)
        ? Optional.of(ReceiptJson.readHead(Files.readString(state))) : Optional.empty();
    try {
      if (last.isPresent()) {
        SignedBatchHead remembered = last.get();
        if (!remembered.verify(key)) {
          throw new UserError(state + " holds a head that does not verify under " + key.fingerprint());
        }
        // What the replica says about the remembered batch today must be that very head.
        SignedBatchHead now = head(remembered.head().batchNumber()).orElseThrow(() -> new UserError(
            "the replica has no head for batch " + remembered.head().batchNumber() + ", which it signed before"));
        judge(remembered, now, out);
      }
      do {
        last = round(last, out);
        if (follow) {
          Thread.sleep(intervalSeconds * 1000L);
        }
      } while (follow);
    } catch (Forked f) {
      out.println("FORK: " + f.getMessage());
      return 1;
    } catch (IOException e) {
      spec.commandLine().getErr().println("cannot audit " + replica + ": " + e.getMessage());
      return 2;
    }
    return 0;
  }

  /** Checks every head after {@code last} up to the latest; returns the latest checked. */
  private Optional<SignedBatchHead> round(Optional<SignedBatchHead> last, PrintWriter out)
      throws IOException, InterruptedException, Forked {
    Optional<SignedBatchHead> latest = head("latest");
    if (latest.isEmpty()) {
      out.println("no batch yet");
      return last;
    }
    long next = last.map(h -> h.head().batchNumber() + 1).orElse(from);
    long end = latest.get().head().batchNumber();
    Optional<SignedBatchHead> previous = last;
    while (next <= end) {
      JsonReader page = get("/heads?from=" + next + "&limit=100");
      List<Object> heads = page.array("heads");
      if (heads.isEmpty()) {
        throw new IOException("the replica lists no head from batch " + next + " though its latest is " + end);
      }
      for (Object h : heads) {
        SignedBatchHead head = ReceiptJson.readHead(Json.write(h));
        if (!head.verify(key)) {
          // Not evidence of anything the operator signed: a wrong key, or a replica serving forgeries.
          throw new IOException("the head of batch " + head.head().batchNumber() + " does not verify under "
              + key.fingerprint() + " (is that the operator's key?)");
        }
        if (previous.isPresent()) {
          judge(previous.get(), head, out);
        }
        previous = Optional.of(head);
        next = head.head().batchNumber() + 1;
        checked++;
      }
      if (state != null) {
        Files.writeString(state, ReceiptJson.write(previous.get()));
      }
      out.printf("checked through batch %d of %d (%d heads this run)%n", next - 1, end, checked);
      out.flush();
    }
    return previous;
  }

  private void judge(SignedBatchHead a, SignedBatchHead b, PrintWriter out) throws IOException, InterruptedException, Forked {
    SignedBatchHead first = a.head().batchNumber() <= b.head().batchNumber() ? a : b;
    SignedBatchHead second = first == a ? b : a;
    long size1 = first.head().logSize();
    long size2 = second.head().logSize();
    // No proof to ask for when the first log is empty (anything extends it) or larger (the auditor calls that a fork).
    ConsistencyProof proof = size1 >= 1 && size1 <= size2
        ? ReceiptJson.readConsistencyProof(body("/proofs/consistency?from=" + size1 + "&to=" + size2))
        : new ConsistencyProof(Math.min(size1, size2), Math.min(size1, size2), List.of());
    switch (Auditor.audit(first, second, proof, key)) {
      case AuditResult.Consistent c -> { }
      case AuditResult.Fork f -> throw new Forked(f.summary() + "\nfirst:\n" + ReceiptJson.write(f.first())
          + "second:\n" + ReceiptJson.write(f.second()));
      case AuditResult.ProofRejected r -> throw new Forked(r.summary() + "\nfirst:\n" + ReceiptJson.write(first)
          + "second:\n" + ReceiptJson.write(second));
      case AuditResult.Unverifiable u -> throw new IOException(u.summary());
    }
  }

  private Optional<SignedBatchHead> head(Object which) throws IOException, InterruptedException {
    HttpResponse<String> r = send("/heads/" + which);
    if (r.statusCode() == 404) {
      return Optional.empty();
    }
    if (r.statusCode() != 200) {
      throw new IOException("GET /heads/" + which + " answered " + r.statusCode() + ": " + r.body().strip());
    }
    return Optional.of(ReceiptJson.readHead(r.body()));
  }

  private JsonReader get(String path) throws IOException, InterruptedException {
    return JsonReader.of("$", Json.parse(body(path)));
  }

  private String body(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = send(path);
    if (r.statusCode() != 200) {
      throw new IOException("GET " + path + " answered " + r.statusCode() + ": " + r.body().strip());
    }
    return r.body();
  }

  private HttpResponse<String> send(String path) throws IOException, InterruptedException {
    URI uri = replica.resolve(path);
    return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
