package dev.bulwark.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.json.Json;
import dev.bulwark.core.json.JsonReader;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.receipt.AuditResult;
import dev.bulwark.core.receipt.Auditor;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.ReceiptJson;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.ledger.Account;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.ledger.LedgerResult;
import dev.bulwark.server.engine.EngineConfig;
import dev.bulwark.server.raft.InProcessCluster;
import dev.bulwark.server.raft.RaftSettings;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin and transparency API of a real three-replica cluster: status and the cluster view,
 * signed heads and proofs an auditor checks with the operator key alone, state proofs by
 * account name, Prometheus metrics, and answers to bad requests.
 */
class AdminServerTest {
  static final SigningKey ADMIN = SigningKey.generate(new SplittableRandom(1));
  static final SigningKey OPERATOR = SigningKey.generate(new SplittableRandom(2));
  static final SigningKey OWNER = SigningKey.generate(new SplittableRandom(3));

  @TempDir
  Path dir;

  final HttpClient http = HttpClient.newHttpClient();

  HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  JsonReader json(int port, String path) throws Exception {
    HttpResponse<String> r = get(port, path);
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
    return JsonReader.of(path, Json.parse(r.body()));
  }

  static AdminServer.StateView accounts() {
    return new AdminServer.StateView("accounts", Ledger.ACCOUNTS::keyBytes,
        value -> Map.of("balance", Account.CODEC.decode(value).balance()));
  }

  static Outcome send(InProcessCluster<LedgerRequest, LedgerResult> cluster, long sequence, LedgerOp op, SigningKey key)
      throws InterruptedException {
    Outcome o = cluster.send(new ClientRequest(Bytes.utf8("admin-test"), sequence,
        LedgerRequest.CODEC.encode(LedgerRequest.sign(op, key))), 200);
    assertThat(o).isInstanceOf(Outcome.Confirmed.class);
    return o;
  }

  /** promtool's complaints about a scrape (empty: none); the test is skipped where Debian's prometheus is missing. */
  static String promtool(String scrape) throws Exception {
    Process p;
    try {
      p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
    } catch (IOException e) {
      org.junit.jupiter.api.Assumptions.abort("promtool is not installed (Debian: apt-get install prometheus)");
      throw e;
    }
    try (var in = p.getOutputStream()) {
      in.write(scrape.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    return p.exitValue() == 0 ? out.strip() : "exit " + p.exitValue() + ": " + out;
  }

  /** A rendered dashboard and the leader the cluster had while it rendered. */
  record Rendered(String dom, String leader) {}

  /**
   * Renders the dashboard on {@code port} until it shows the leader the cluster has at that
   * moment, at most three times: on a loaded machine an election can move leadership while
   * Chromium renders, and a page showing the leader of a moment ago is not wrong.
   */
  static Rendered dashboardShowingTheLeader(int port, InProcessCluster<?, ?> cluster) throws Exception {
    String dom = "";
    String expected = "";
    for (int attempt = 0; attempt < 3; attempt++) {
      String before = cluster.awaitLeader(30_000).id();
      dom = dashboard(port);
      expected = cluster.awaitLeader(30_000).id();
      if (before.equals(expected) && dom.contains("data-testid=\"leader\">" + expected + "<")) {
        return new Rendered(dom, expected);
      }
    }
    throw new AssertionError("the dashboard on port " + port + " did not show the leader " + expected + ":\n" + dom);
  }

  /** The dashboard's DOM after its scripts ran for a few seconds in headless Chromium. */
  static String dashboard(int port) throws Exception {
    Process p;
    try {
      p = new ProcessBuilder("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000",
          "--dump-dom", "http://127.0.0.1:" + port + "/").redirectError(ProcessBuilder.Redirect.DISCARD).start();
    } catch (IOException e) {
      org.junit.jupiter.api.Assumptions.abort("chromium is not installed (Debian: apt-get install chromium)");
      throw e;
    }
    String dom = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish in 60 s");
    }
    assertThat(p.exitValue()).as("chromium's exit status").isZero();
    return dom;
  }

  @Test
  void anAuditorChecksEverythingTheApiServesWithTheOperatorKeyAlone() throws Exception {
    List<AdminServer> admins = new ArrayList<>();
    try (var cluster = new InProcessCluster<LedgerRequest, LedgerResult>(3, dir, new Ledger(ADMIN.publicKey()),
        EngineConfig.defaults("admin-test"), RaftSettings.DEFAULT, OPERATOR)) {
      Map<String, String> peers = new LinkedHashMap<>();
      for (String id : cluster.ids()) {
        peers.put(id, "127.0.0.1:" + InProcessCluster.freeLoopbackPort());
      }
      Map<String, Integer> ports = new LinkedHashMap<>();
      for (String id : cluster.ids()) {
        int port = Integer.parseInt(peers.get(id).substring(10));
        var replica = cluster.replica(id).orElseThrow();
        admins.add(AdminServer.start(new AdminConfig("127.0.0.1", port, peers, Duration.ofMillis(500)), replica,
            List.of(accounts()), new ReplicaMetrics(replica)));
        ports.put(id, port);
      }
      String leader = cluster.awaitLeader(30_000).id();
      send(cluster, 1, new LedgerOp.OpenAccount("alice", OWNER.publicKey()), OWNER);
      Outcome deposit = send(cluster, 2, new LedgerOp.Deposit("alice", 70, Bytes.utf8("d-1")), ADMIN);
      int port = ports.get(leader);

      JsonReader status = json(port, "/status");
      assertThat(status.string("role")).isEqualTo("LEADER");
      assertThat(status.string("leader")).isEqualTo(leader);
      long appliedBatch = status.integer("appliedBatch");
      assertThat(appliedBatch).isGreaterThanOrEqualTo(1);

      // The cluster view from a follower: three replicas, one leader.
      String follower = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      List<Object> replicas = json(ports.get(follower), "/cluster").array("replicas");
      assertThat(replicas).hasSize(3);
      assertThat(replicas.stream().filter(r -> "LEADER".equals(((Map<?, ?>) r).get("role"))).count()).isEqualTo(1);

      // Heads: signed, chained, and the log only grows, as checked by the auditor.
      SignedBatchHead latest = ReceiptJson.readHead(get(port, "/heads/latest").body());
      SignedBatchHead first = ReceiptJson.readHead(get(port, "/heads/0").body());
      assertThat(latest.verify(OPERATOR.publicKey())).isTrue();
      var proof = ReceiptJson.readConsistencyProof(get(port, "/proofs/consistency?from=" + first.head().logSize()
          + "&to=" + latest.head().logSize()).body());
      assertThat(Auditor.audit(first, latest, proof, OPERATOR.publicKey())).isInstanceOf(AuditResult.Consistent.class);
      List<Object> page = json(port, "/heads?from=0&limit=100").array("heads");
      assertThat(page).hasSize((int) latest.head().batchNumber() + 1);

      // The deposit's confirmation is in the log under the latest head.
      Receipt.PerBatch receipt = (Receipt.PerBatch) ((Outcome.Confirmed) deposit).receipt();
      long leaf = receipt.inclusion().leafIndex();
      String inclusion = get(port, "/proofs/inclusion?leaf=" + leaf + "&size=" + latest.head().logSize()).body();
      JsonReader inc = JsonReader.of("inclusion", Json.parse(inclusion));
      assertThat(inc.integer("leafIndex")).isEqualTo(leaf);
      var path = new ArrayList<dev.bulwark.core.Digest>();
      for (Object h : inc.array("path")) {
        path.add(dev.bulwark.core.Digest.fromHex((String) h));
      }
      assertThat(new dev.bulwark.core.merkle.InclusionProof(leaf, latest.head().logSize(), path)
          .verify(receipt.confirmation().leafHash(), latest.head().logRoot())).isTrue();

      // An account by name, with a state proof under the head that comes with it.
      JsonReader alice = json(port, "/state/accounts/alice");
      assertThat(alice.object("value").integer("balance")).isEqualTo(70);
      Map<?, ?> entry = (Map<?, ?>) Json.parse(get(port, "/state/accounts/alice").body());
      SignedBatchHead head = ReceiptJson.readHead(Json.write(entry.get("head")));
      var stateProof = ReceiptJson.readStateProof(Json.write(entry.get("proof")));
      assertThat(head.verify(OPERATOR.publicKey())).isTrue();
      assertThat(stateProof.stateRoot()).isEqualTo(head.head().stateRoot());
      assertThat(stateProof.proof().verify(head.head().stateRoot())).isTrue();
      assertThat(json(port, "/state/accounts/nobody").isNull("value")).isTrue();

      // Metrics in the Prometheus text format.
      String metrics = get(port, "/metrics").body();
      assertThat(metrics).contains("# TYPE bulwark_raft_term gauge", "bulwark_raft_leader 1.0",
          "bulwark_applied_batch", "bulwark_cache_hits_total", "bulwark_store_estimate_num_keys",
          "bulwark_batch_requests_count", "bulwark_batch_stage_seconds_bucket{stage=\"seal\"",
          "bulwark_batch_replicate_seconds_count{committed=\"true\"}", "bulwark_state_collection_backlog",
          "bulwark_state_nodes_collected_total", "bulwark_state_collector_failed 0.0");

      // Bad requests get their own status codes; the dashboard is served from the jar.
      assertThat(get(port, "/heads/x").statusCode()).isEqualTo(400);
      assertThat(get(port, "/heads/999999").statusCode()).isEqualTo(404);
      assertThat(get(port, "/proofs/consistency?from=0").statusCode()).isEqualTo(400);
      assertThat(get(port, "/state/nosuchview/alice").statusCode()).isEqualTo(404);
      assertThat(get(port, "/nothing").statusCode()).isEqualTo(404);
      assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/status"))
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
          .isEqualTo(405);
      assertThat(get(port, "/").body()).contains("<title>Bulwark dashboard</title>");
      assertThat(promtool(metrics)).as("promtool check metrics").isEmpty();
      dashboardShowingTheLeader(ports.get(follower), cluster);
      assertThat(get(port, "/dashboard.js").statusCode()).isEqualTo(200);
      assertThat(get(port, "/health/live").statusCode()).isEqualTo(200);
      assertThat(get(port, "/health/ready").statusCode()).isEqualTo(200);

      // The leader goes: the others see a new leader, and the cluster view shows it down.
      admins.get(cluster.ids().indexOf(leader)).close();
      cluster.stop(leader);
      String next = cluster.awaitLeader(30_000).id();
      int survivor = ports.get(next);
      List<Object> changes = json(survivor, "/leadership").array("changes");
      assertThat(((Map<?, ?>) changes.getLast()).get("leader")).isEqualTo(next);
      List<Object> after = json(survivor, "/cluster").array("replicas");
      assertThat(after.stream().filter(r -> leader.equals(((Map<?, ?>) r).get("id"))).findFirst().orElseThrow())
          .satisfies(r -> assertThat(((Map<?, ?>) r).get("role")).isEqualTo("DOWN"));
      // The dashboard, rendered by a real browser, shows the new leader and the change.
      Rendered page2 = dashboardShowingTheLeader(survivor, cluster);
      assertThat(page2.dom().substring(page2.dom().indexOf("data-testid=\"changes\""))).contains("<td>" + page2.leader() + "</td>");
      assertThat(page2.dom()).contains("<td>" + leader + "</td><td>DOWN</td>");
    } finally {
      admins.forEach(AdminServer::close);
    }
  }
}
