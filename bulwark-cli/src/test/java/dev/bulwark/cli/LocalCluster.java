package dev.bulwark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.client.BulwarkClient;
import dev.bulwark.client.ClientConfig;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.json.Json;
import dev.bulwark.core.json.JsonReader;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.core.receipt.ReceiptJson;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.ledger.Account;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.store.keys.KeyFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A local cluster of replica processes made by 'bulwark cluster init', and what tests ask of it over HTTP and the client. */
final class LocalCluster implements AutoCloseable {
  final Path dir;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  LocalCluster(Path dir) throws Exception {
    this(dir, List.of("--base-port", Integer.toString(ClusterCommandTest.freeBasePort())));
  }

  /** A cluster made by 'cluster init DIR' with {@code initOptions} (e.g. --hosts for replicas on other hosts). */
  LocalCluster(Path dir, List<String> initOptions) {
    this.dir = dir;
    List<String> args = new ArrayList<>(List.of("cluster", "init", dir.toString()));
    args.addAll(initOptions);
    var init = ClusterCommandTest.run(args.toArray(String[]::new));
    assertThat(init.exit()).as(init.err()).isZero();
  }

  /** Starts every replica and waits for a leader: 'cluster up' waits 30 s, a loaded machine may need up to 60 s more. */
  void up() throws InterruptedException {
    var up = ClusterCommandTest.run("cluster", "up", dir.toString());
    if (up.exit() != 0) {
      var led = ClusterCommand.awaitStatus(dir, l -> l.endsWith("leads"), 600);
      assertThat(led).as(up.out() + up.err()).isPresent();
    }
  }

  void down() {
    ClusterCommandTest.run("cluster", "down", dir.toString());
  }

  List<String> ids() {
    return new ArrayList<>(settings("r1").raftPeers().keySet());
  }

  ReplicaSettings settings(String id) {
    return ReplicaSettings.read(dir.resolve(id).resolve("replica.properties"));
  }

  /** Replica {@code id}'s admin API, at the address its peers know it by. */
  String admin(String id) {
    ReplicaSettings s = settings(id);
    return "http://" + s.httpPeers().getOrDefault(id, s.httpHost() + ":" + s.httpPort());
  }

  PublicKey operatorKey() {
    return KeyFiles.readPublicKey(dir.resolve("operator.pub"));
  }

  SigningKey adminKey() {
    return KeyFiles.readPrivateKey(dir.resolve("admin.key"));
  }

  BulwarkClient client(String name) {
    return new BulwarkClient(ClientConfig.defaults(settings("r1").ingressPeers(), dir.resolve("ca.crt"), operatorKey(), name));
  }

  /** GET {@code path} from replica {@code id}'s admin API: the body of a 200 answer, or empty. */
  Optional<String> get(String id, String path) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(admin(id) + path)).timeout(Duration.ofSeconds(5))
          .GET().build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? Optional.of(r.body()) : Optional.empty();
    } catch (Exception e) {
      return Optional.empty();
    }
  }

  Optional<JsonReader> status(String id) {
    return get(id, "/status").map(body -> JsonReader.of("status", Json.parse(body)));
  }

  /** Signed heads 0..upTo as replica {@code id} serves them. */
  List<SignedBatchHead> heads(String id, long upTo) {
    List<SignedBatchHead> out = new ArrayList<>();
    while (out.size() <= upTo) {
      String body = get(id, "/heads?from=" + out.size() + "&limit=100").orElseThrow();
      List<Object> page = JsonReader.of("heads", Json.parse(body)).array("heads");
      assertThat(page).as("heads from %d on %s", out.size(), id).isNotEmpty();
      for (Object h : page) {
        if (out.size() <= upTo) {
          out.add(ReceiptJson.readHead(Json.write(h)));
        }
      }
    }
    return out;
  }

  /** Waits until every running replica reports the same applied batch and state digest; returns that batch. */
  long awaitConverged(int attempts) throws InterruptedException {
    String last = "";
    for (int i = 0; i < attempts; i++) {
      List<String> seen = new ArrayList<>();
      for (String id : ids()) {
        seen.add(status(id).map(s -> s.integer("appliedBatch") + "/" + s.string("stateDigest")).orElse("down"));
      }
      last = seen.toString();
      if (seen.stream().distinct().count() == 1 && !seen.getFirst().equals("down")) {
        return Long.parseLong(seen.getFirst().substring(0, seen.getFirst().indexOf('/')));
      }
      Thread.sleep(100);
    }
    throw new AssertionError("replicas did not converge: " + last + describe(40));
  }

  /**
   * What a failed assertion should show about the cluster: each replica's status (or "down") and
   * the last {@code lines} lines of its log, since the directory is gone by the time anyone reads a CI report.
   */
  String describe(int lines) {
    StringBuilder out = new StringBuilder();
    for (String id : ids()) {
      out.append("\n--- ").append(id).append(": ").append(get(id, "/status").orElse("down")).append('\n');
      Path log = dir.resolve(id).resolve("replica.log");
      try {
        List<String> all = java.nio.file.Files.readAllLines(log);
        all.subList(Math.max(0, all.size() - lines), all.size()).forEach(l -> out.append("  ").append(l).append('\n'));
      } catch (java.io.IOException | java.io.UncheckedIOException e) {
        out.append("  (no log: ").append(e).append(")\n");
      }
    }
    return out.toString();
  }

  static Bytes payload(LedgerOp op, SigningKey key) {
    return LedgerRequest.CODEC.encode(LedgerRequest.sign(op, key));
  }

  static void confirmed(Outcome outcome) {
    assertThat(outcome).as("%s", outcome).isInstanceOf(Outcome.Confirmed.class);
    assertThat(((Outcome.Confirmed) outcome).result()).isInstanceOf(ResultEnvelope.Applied.class);
  }

  static Account account(BulwarkClient client, String name) throws InterruptedException {
    return Account.CODEC.decode(client.query(Ledger.ACCOUNTS.keyBytes(name)).value().orElseThrow());
  }

  static Map<String, Long> balances(BulwarkClient client, List<String> names) throws InterruptedException {
    Map<String, Long> out = new java.util.LinkedHashMap<>();
    for (String n : names) {
      out.put(n, account(client, n).balance());
    }
    return out;
  }

  @Override
  public void close() {
    down();
    http.close();
  }
}
