package dev.bulwark.server.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.json.Json;
import dev.bulwark.core.receipt.ReceiptJson;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.core.state.StateEntryProof;
import dev.bulwark.server.engine.EngineTables;
import dev.bulwark.server.raft.ReplicaServer;
import dev.bulwark.store.state.RootReleasedException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replica's admin and transparency API: plain HTTP, GET only, JSON answers, read from the
 * replica's committed state. Operators ask it who leads and how far each replica is; auditors
 * take signed heads, inclusion and consistency proofs and state proofs from it and check them
 * with nothing but the operator's public key (the documents are those of docs/receipts.md).
 *
 * <pre>
 * GET /status                          this replica: role, term, leader, applied index, state digest, latest head
 * GET /health/live                     200 while the process serves
 * GET /health/ready                    200 when it knows a leader and has applied a batch, else 503
 * GET /cluster                         every replica's /status (or "down"), for the dashboard
 * GET /leadership                      the leadership changes this replica saw
 * GET /heads/latest, /heads/N          a signed batch head
 * GET /heads?from=N&amp;limit=M             signed heads N.. (at most 100)
 * GET /proofs/inclusion?leaf=I&amp;size=S  confirmation I in the log of S confirmations
 * GET /proofs/consistency?from=A&amp;to=B  log size A is a prefix of log size B
 * GET /state/VIEW/KEY[?batch=N]        an entry of the state with its proof under head N (default: latest)
 * GET /metrics                         Prometheus text format
 * GET /stats                           recent request latency (p50, p99) for the dashboard
 * GET /backup                          a consistent online backup of this replica, a zip (docs/operations.md)
 * GET /                                the dashboard
 * </pre>
 */
public final class AdminServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
  private static final int HEADS_PAGE_MAX = 100;

  /**
   * A named way to address state entries by something people type (an account name) instead
   * of a trie key, and to show the value as JSON.
   */
  public record StateView(String name, Function<String, Bytes> key, Function<Bytes, Object> describe) {}

  private final AdminConfig config;
  private final ReplicaServer<?, ?> replica;
  private final Map<String, StateView> views = new LinkedHashMap<>();
  private final ReplicaMetrics metrics;
  private final HttpServer server;
  private final ExecutorService threads;
  private final HttpClient peers;

  private AdminServer(AdminConfig config, ReplicaServer<?, ?> replica, List<StateView> views, ReplicaMetrics metrics)
      throws IOException {
    this.config = config;
    this.replica = replica;
    this.metrics = metrics;
    views.forEach(v -> this.views.put(v.name(), v));
    this.threads = Executors.newFixedThreadPool(2, Thread.ofPlatform().name("bulwark-admin-", 0).daemon().factory());
    this.peers = HttpClient.newBuilder().connectTimeout(config.peerTimeout()).executor(threads).build();
    this.server = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 32);
    server.setExecutor(threads);
    server.createContext("/", this::handle);
    server.createContext("/backup", this::backup);
    server.start();
  }

  /** Starts the admin listener of {@code replica}, serving {@code metrics} as well. */
  public static AdminServer start(AdminConfig config, ReplicaServer<?, ?> replica, List<StateView> views,
      ReplicaMetrics metrics) {
    try {
      return new AdminServer(config, replica, views, metrics);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen for admin requests on " + config.host() + ":" + config.port(), e);
    }
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** An answer: status code, content type, body. */
  private record Answer(int status, String contentType, byte[] body) {
    static Answer json(int status, Object value) {
      return new Answer(status, "application/json", Json.write(value).getBytes(StandardCharsets.UTF_8));
    }

    static Answer document(String json) {
      return new Answer(200, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    static Answer error(int status, String message) {
      return json(status, Map.of("error", message));
    }
  }

  /** A bad request parameter: answered 400 with its message. */
  private static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BadRequest(String message) {
      super(message);
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    Answer answer;
    try {
      if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
        answer = Answer.error(405, "the admin API is read-only: GET only");
      } else {
        answer = route(exchange.getRequestURI());
      }
    } catch (BadRequest e) {
      answer = Answer.error(400, e.getMessage());
    } catch (RootReleasedException e) {
      answer = Answer.error(410, e.getMessage());
    } catch (RuntimeException e) {
      log.warn("admin request {} failed", exchange.getRequestURI(), e);
      answer = Answer.error(500, String.valueOf(e.getMessage()));
    }
    try (exchange; OutputStream out = exchange.getResponseBody()) {
      exchange.getResponseHeaders().set("Content-Type", answer.contentType() + "; charset=utf-8");
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      boolean head = "HEAD".equals(exchange.getRequestMethod());
      exchange.sendResponseHeaders(answer.status(), head ? -1 : answer.body().length);
      if (!head) {
        out.write(answer.body());
      }
    }
  }

  private Answer route(URI uri) {
    String path = uri.getPath();
    Map<String, String> query = query(uri.getRawQuery());
    List<String> parts = new ArrayList<>();
    for (String p : path.split("/")) {
      if (!p.isEmpty()) {
        parts.add(java.net.URLDecoder.decode(p, StandardCharsets.UTF_8));
      }
    }
    if (parts.isEmpty()) {
      return resource("dashboard.html", "text/html");
    }
    return switch (parts.getFirst()) {
      case "status" -> Answer.json(200, status(replica.status()));
      case "health" -> health(parts);
      case "cluster" -> Answer.json(200, cluster());
      case "leadership" -> Answer.json(200, leadership());
      case "heads" -> heads(parts, query);
      case "proofs" -> proofs(parts, query);
      case "state" -> state(parts, query);
      case "metrics" -> new Answer(200, "text/plain; version=0.0.4", metrics.scrape().getBytes(StandardCharsets.UTF_8));
      case "stats" -> Answer.json(200, metrics.recentLatency());
      case "dashboard.js" -> resource("dashboard.js", "text/javascript");
      default -> Answer.error(404, "no such resource: " + path);
    };
  }

  // ---------------------------------------------------------------- backup

  private final java.util.concurrent.atomic.AtomicBoolean backingUp = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * GET /backup: takes a checkpoint, then streams it as a zip with its manifest last (see
   * {@link dev.bulwark.server.raft.Backups}); one backup at a time, the checkpoint deleted after.
   */
  private void backup(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!"GET".equals(exchange.getRequestMethod()) || !"/backup".equals(exchange.getRequestURI().getPath())) {
        sendError(exchange, "GET".equals(exchange.getRequestMethod()) ? Answer.error(404, "the backup is GET /backup")
            : Answer.error(405, "the admin API is read-only: GET only"));
        return;
      }
      if (!backingUp.compareAndSet(false, true)) {
        sendError(exchange, Answer.error(409, "a backup of this replica is already being taken"));
        return;
      }
      try {
        dev.bulwark.server.raft.Backups.Checkpoint checkpoint;
        try {
          checkpoint = dev.bulwark.server.raft.Backups.take(replica, java.time.InstantSource.system());
        } catch (dev.bulwark.server.raft.Backups.BackupException e) {
          sendError(exchange, Answer.error(409, e.getMessage()));
          return;
        } catch (IOException | RuntimeException e) {
          log.warn("backup: the checkpoint failed", e);
          sendError(exchange, Answer.error(500, "the checkpoint failed: " + e.getMessage()));
          return;
        }
        try (checkpoint) {
          exchange.getResponseHeaders().set("Content-Type", "application/zip");
          exchange.getResponseHeaders().set("Cache-Control", "no-store");
          exchange.getResponseHeaders().set("Content-Disposition", "attachment; filename=\"" + replica.members().cluster()
              + "-" + replica.id() + "-batch-" + checkpoint.mark().batchNumber() + ".zip\"");
          exchange.sendResponseHeaders(200, 0);
          try (OutputStream out = exchange.getResponseBody()) {
            var manifest = checkpoint.writeZip(out);
            log.info("backup of batch {} (log index {}) sent: {} files", manifest.batchNumber(), manifest.logIndex(),
                manifest.files().size());
          }
        }
      } finally {
        backingUp.set(false);
      }
    } catch (IOException | RuntimeException e) {
      // Mid-stream: the client gets a zip without its manifest, which it refuses as cut short.
      log.warn("backup request failed: {}", e.toString());
    }
  }

  private static void sendError(HttpExchange exchange, Answer answer) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", answer.contentType() + "; charset=utf-8");
    exchange.sendResponseHeaders(answer.status(), answer.body().length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(answer.body());
    }
  }

  // ---------------------------------------------------------------- status and health

  static Map<String, Object> status(ReplicaServer.Status s) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", s.id());
    out.put("cluster", s.cluster());
    out.put("role", s.role());
    out.put("term", s.term());
    out.put("leader", s.leader().orElse(null));
    out.put("sequencing", s.sequencing());
    out.put("commitIndex", s.commitIndex());
    out.put("appliedIndex", s.applied().logIndex());
    out.put("appliedBatch", s.applied().batchNumber());
    out.put("stateDigest", s.applied().stateDigest().hex());
    out.put("latestHead", s.latestHead().map(AdminServer::headSummary).orElse(null));
    return out;
  }

  private static Map<String, Object> headSummary(SignedBatchHead signed) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("batchNumber", signed.head().batchNumber());
    out.put("logSize", signed.head().logSize());
    out.put("stateRoot", signed.head().stateRoot().hex());
    out.put("hash", signed.head().hash().hex());
    out.put("timeMs", signed.head().timeMs());
    return out;
  }

  private Answer health(List<String> parts) {
    String which = parts.size() == 2 ? parts.get(1) : "";
    return switch (which) {
      case "live" -> Answer.json(200, Map.of("live", true));
      case "ready" -> {
        ReplicaServer.Status s = replica.status();
        String reason = s.leader().isEmpty() ? "no leader known"
            : s.applied().batchNumber() < 0 ? "no batch applied yet"
            : "DOWN".equals(s.role()) ? "the Raft server is down" : null;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ready", reason == null);
        out.put("reason", reason);
        yield Answer.json(reason == null ? 200 : 503, out);
      }
      default -> Answer.error(404, "health checks are /health/live and /health/ready");
    };
  }

  private Map<String, Object> cluster() {
    Map<String, CompletableFuture<Object>> asked = new LinkedHashMap<>();
    for (Map.Entry<String, String> peer : config.peers().entrySet()) {
      if (peer.getKey().equals(replica.id())) {
        asked.put(peer.getKey(), CompletableFuture.completedFuture(status(replica.status())));
        continue;
      }
      HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + peer.getValue() + "/status"))
          .timeout(config.peerTimeout()).GET().build();
      asked.put(peer.getKey(), peers.sendAsync(request, HttpResponse.BodyHandlers.ofString())
          .thenApply(r -> r.statusCode() == 200 ? Json.parse(r.body()) : down(peer.getKey(), "HTTP " + r.statusCode()))
          .exceptionally(e -> down(peer.getKey(), "unreachable")));
    }
    if (!asked.containsKey(replica.id())) {
      asked.put(replica.id(), CompletableFuture.completedFuture(status(replica.status())));
    }
    List<Object> replicas = new ArrayList<>();
    for (Map.Entry<String, CompletableFuture<Object>> e : asked.entrySet()) {
      try {
        replicas.add(e.getValue().get(config.peerTimeout().toMillis() * 2, java.util.concurrent.TimeUnit.MILLISECONDS));
      } catch (Exception failed) {
        replicas.add(down(e.getKey(), "no answer"));
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("askedBy", replica.id());
    out.put("timeMs", System.currentTimeMillis());
    out.put("replicas", replicas);
    return out;
  }

  private static Object down(String id, String why) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", id);
    out.put("role", "DOWN");
    out.put("error", why);
    return out;
  }

  private Map<String, Object> leadership() {
    List<Object> changes = new ArrayList<>();
    for (ReplicaServer.LeaderChange c : replica.leaderChanges()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("timeMs", c.timeMs());
      m.put("leader", c.leader().orElse(null));
      changes.add(m);
    }
    return Map.of("changes", changes);
  }

  // ---------------------------------------------------------------- heads and proofs

  private Answer heads(List<String> parts, Map<String, String> query) {
    var store = replica.replica().objects().store();
    if (parts.size() == 1) {
      long from = number(query, "from", 0);
      long limit = number(query, "limit", 20);
      if (limit < 1 || limit > HEADS_PAGE_MAX) {
        throw new BadRequest("limit must be between 1 and " + HEADS_PAGE_MAX);
      }
      List<Object> heads = new ArrayList<>();
      for (long n = from; n < from + limit; n++) {
        Optional<SignedBatchHead> head = EngineTables.HEADS.get(store, n);
        if (head.isEmpty()) {
          break;
        }
        heads.add(Json.parse(ReceiptJson.write(head.get())));
      }
      return Answer.json(200, Map.of("heads", heads));
    }
    if (parts.size() != 2) {
      return Answer.error(404, "heads are /heads/latest, /heads/N and /heads?from=N&limit=M");
    }
    Optional<SignedBatchHead> head = "latest".equals(parts.get(1)) ? replica.replica().lastHead()
        : EngineTables.HEADS.get(store, parseNumber("batch number", parts.get(1)));
    return head.map(h -> Answer.document(ReceiptJson.write(h)))
        .orElseGet(() -> Answer.error(404, "no such batch head (yet)"));
  }

  private Answer proofs(List<String> parts, Map<String, String> query) {
    long logSize = replica.replica().lastHead().map(h -> h.head().logSize()).orElse(0L);
    String which = parts.size() == 2 ? parts.get(1) : "";
    try (var snapshot = replica.replica().objects().snapshot()) {
      return switch (which) {
        case "inclusion" -> {
          long leaf = number(query, "leaf", -1);
          long size = number(query, "size", logSize);
          if (size < 1 || size > logSize || leaf < 0 || leaf >= size) {
            throw new BadRequest("need 0 <= leaf < size <= " + logSize + " (the latest head's log size)");
          }
          yield Answer.document(ReceiptJson.write(EngineTables.CONFIRMATIONS.inclusionProof(snapshot, leaf, size)));
        }
        case "consistency" -> {
          long from = number(query, "from", -1);
          long to = number(query, "to", logSize);
          if (from < 1 || from > to || to > logSize) {
            throw new BadRequest("need 1 <= from <= to <= " + logSize + " (the latest head's log size)");
          }
          yield Answer.document(ReceiptJson.write(EngineTables.CONFIRMATIONS.consistencyProof(snapshot, from, to)));
        }
        default -> Answer.error(404, "proofs are /proofs/inclusion?leaf=I&size=S and /proofs/consistency?from=A&to=B");
      };
    }
  }

  private Answer state(List<String> parts, Map<String, String> query) {
    if (parts.size() != 3 || !views.containsKey(parts.get(1))) {
      return Answer.error(404, "state entries are /state/VIEW/KEY with VIEW one of " + views.keySet());
    }
    StateView view = views.get(parts.get(1));
    Bytes key;
    try {
      key = view.key().apply(parts.get(2));
    } catch (IllegalArgumentException e) {
      throw new BadRequest(e.getMessage());
    }
    var store = replica.replica().objects().store();
    Optional<SignedBatchHead> head = query.containsKey("batch")
        ? EngineTables.HEADS.get(store, number(query, "batch", -1))
        : replica.replica().lastHead();
    if (head.isEmpty()) {
      return Answer.error(404, "no such batch head (yet)");
    }
    long batch = head.get().head().batchNumber();
    StateEntryProof proof = new StateEntryProof(key, replica.replica().state().get(batch, key),
        replica.replica().state().prove(batch, key));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("view", view.name());
    out.put("name", parts.get(2));
    out.put("value", proof.value().map(view.describe()).orElse(null));
    out.put("head", Json.parse(ReceiptJson.write(head.get())));
    out.put("proof", Json.parse(ReceiptJson.write(head.get().head().stateRoot(), proof)));
    return Answer.json(200, out);
  }

  // ---------------------------------------------------------------- helpers

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    if (raw.length() > 1024) {
      throw new BadRequest("the query string is longer than 1024 characters");
    }
    for (String pair : raw.split("&")) {
      String[] kv = pair.split("=", 2);
      out.put(java.net.URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
          kv.length == 2 ? java.net.URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
    }
    return out;
  }

  private static long number(Map<String, String> query, String name, long otherwise) {
    String v = query.get(name);
    return v == null ? otherwise : parseNumber(name, v);
  }

  private static long parseNumber(String name, String text) {
    try {
      long n = Long.parseLong(text);
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new BadRequest(name + " must be a number >= 0, not '" + text + "'");
    }
  }

  private static Answer resource(String name, String type) {
    try (InputStream in = AdminServer.class.getResourceAsStream(name)) {
      if (in == null) {
        return Answer.error(404, name + " is not in this build");
      }
      return new Answer(200, type, in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
    peers.close();
  }
}
