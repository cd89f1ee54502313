package dev.bulwark.cli;

import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.server.raft.Backups;
import dev.bulwark.store.keys.KeyFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Saves a consistent online backup of a running replica, as its admin API serves it at
 * {@code GET /backup}, and checks it before it keeps it: the manifest, the signature of the
 * head it corresponds to, and every file's digest. A backup that fails a check is deleted.
 */
@Command(name = "backup", mixinStandardHelpOptions = true,
    description = {"Take a consistent online backup of a running replica (a checkpoint of its store, the Raft log position "
        + "and the signed head it corresponds to) through its admin API, without stopping it.",
        "The backup is checked against the operator's public key before it is kept. See docs/operations.md."})
final class BackupCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--replica", required = true, paramLabel = "URL",
      description = "The replica's admin API, e.g. http://127.0.0.1:7201 (its client port + 100).")
  String replica;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the backup (a zip); must not exist.")
  Path out;

  @Option(names = "--operator-key", required = true, paramLabel = "PUB",
      description = "The operator's public key (the cluster's operator.pub), to check the backup's signed head.")
  Path operatorKey;

  @Option(names = "--timeout-s", defaultValue = "600", paramLabel = "SECONDS",
      description = "How long the download may take (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  static URI backupUri(String replica) {
    String base = replica.contains("://") ? replica : "http://" + replica;
    while (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    try {
      URI uri = URI.create(base + "/backup");
      if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
        throw new IllegalArgumentException("not an http URL");
      }
      return uri;
    } catch (IllegalArgumentException e) {
      throw new UserError("--replica must be the admin API's address, like http://127.0.0.1:7201, not '" + replica + "'");
    }
  }

  @Override
  public Integer call() throws Exception {
    if (timeoutSeconds < 1) {
      throw new UserError("--timeout-s must be at least 1");
    }
    if (Files.exists(out)) {
      throw new UserError(out + " already exists; a backup is written to a new file");
    }
    PublicKey key = KeyFiles.readPublicKey(operatorKey);
    URI uri = backupUri(replica);
    Path absolute = out.toAbsolutePath();
    Path partial = absolute.resolveSibling(absolute.getFileName() + ".partial");
    try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()) {
      HttpResponse<Path> response;
      try {
        response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(timeoutSeconds)).GET().build(),
            HttpResponse.BodyHandlers.ofFile(partial));
      } catch (IOException e) {
        Files.deleteIfExists(partial);
        throw new UserError("cannot take a backup from " + uri + ": " + e.getMessage());
      }
      if (response.statusCode() != 200) {
        String body = Files.readString(partial);
        Files.deleteIfExists(partial);
        throw new UserError("the replica at " + uri + " refused the backup: HTTP " + response.statusCode() + " " + body);
      }
    }
    Backups.Manifest manifest;
    try {
      manifest = Backups.verify(partial, key);
    } catch (IOException | IllegalArgumentException e) {
      Files.deleteIfExists(partial);
      throw new UserError("the backup from " + uri + " does not check out, not kept: " + e.getMessage());
    }
    Files.move(partial, absolute, StandardCopyOption.ATOMIC_MOVE);
    PrintWriter o = spec.commandLine().getOut();
    o.printf("backup of replica %s of cluster '%s' written to %s (%d bytes, %d store files)%n", manifest.replica(),
        manifest.cluster(), out, Files.size(absolute), manifest.files().size());
    o.printf("it holds batch %d (Raft log index %d, term %d), state digest %s%n", manifest.batchNumber(),
        manifest.logIndex(), manifest.logTerm(), manifest.stateDigest().hex());
    o.printf("signed head %s of batch %d verified with operator key %s%n", manifest.head().head().hash().hex(),
        manifest.batchNumber(), key.fingerprint());
    return 0;
  }
}
