package dev.bulwark.cli.config;

import static dev.bulwark.cli.config.SettingType.bool;
import static dev.bulwark.cli.config.SettingType.choice;
import static dev.bulwark.cli.config.SettingType.duration;
import static dev.bulwark.cli.config.SettingType.file;
import static dev.bulwark.cli.config.SettingType.host;
import static dev.bulwark.cli.config.SettingType.integer;
import static dev.bulwark.cli.config.SettingType.longInteger;
import static dev.bulwark.cli.config.SettingType.name;
import static dev.bulwark.cli.config.SettingType.peers;
import static dev.bulwark.cli.config.SettingType.port;
import static dev.bulwark.cli.config.SettingType.size;

import dev.bulwark.server.engine.ReceiptMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The registry of every replica setting: what {@code replica.properties} may say. Parsing
 * checks each value against its type and range, rejects unknown names (suggesting the
 * closest known one: a typo silently ignored would leave a default in force), fills defaults,
 * derives the settings that follow from others, and checks the rules that span settings and
 * belong to no single config record. The records themselves ({@code EngineConfig},
 * {@code RaftSettings}, ...) still validate their own combinations; the caller maps their
 * refusals back to setting names.
 */
public final class Settings {
  private Settings() {}

  private static final String NAME_RANGE = "1 to 64 of A-Z a-z 0-9 . _ -";
  private static final long KIB = 1L << 10;
  private static final long MIB = 1L << 20;
  private static final long GIB = 1L << 30;

  // Identity and keys.
  public static final Setting<String> CLUSTER_NAME = Setting.required("cluster.name",
      name("[A-Za-z0-9._-]{1,64}", NAME_RANGE), "The cluster's name, which derives its Raft group id; the same on every replica.");
  public static final Setting<String> REPLICA_ID = Setting.required("replica.id",
      name("[A-Za-z0-9_-]{1,32}", "1 to 32 of A-Z a-z 0-9 _ -"), "This replica's id; one of the ids in raft.peers.");
  public static final Setting<String> OPERATOR_ID = Setting.required("operator.id", name("[A-Za-z0-9._-]{1,64}", NAME_RANGE),
      "The operator's name in every receipt and signed batch head.").knownAs("engine.operatorId");
  public static final Setting<Path> OPERATOR_KEY = Setting.required("operator.key", file(),
      "The operator's Ed25519 signing key (PKCS#8 PEM, mode 0600).");
  public static final Setting<Path> ADMIN_PUBLIC_KEY = Setting.required("admin.publicKey", file(),
      "The public key (PEM) whose signatures authorize deposits and withdrawals.");

  // Raft.
  public static final Setting<Map<String, String>> RAFT_PEERS = Setting.required("raft.peers", peers(),
      "Every replica's Raft endpoint, this one's included; this replica listens on its own entry's port.");
  public static final Setting<Duration> RAFT_ELECTION_TIMEOUT_MIN = Setting.optional("raft.electionTimeoutMin",
      duration(Duration.ofMillis(50), Duration.ofSeconds(60)), "300ms",
      "A follower that hears no leader for a random time between min and max starts an election; below the max.");
  public static final Setting<Duration> RAFT_ELECTION_TIMEOUT_MAX = Setting.optional("raft.electionTimeoutMax",
      duration(Duration.ofMillis(50), Duration.ofSeconds(60)), "600ms",
      "The upper end of that range; a leader that hears no majority for this long steps down.");
  public static final Setting<Boolean> RAFT_ELECT_ON_LEADER_EXIT = Setting.optional("raft.electOnLeaderExit", bool(), "true",
      "When a peer's connection closes and the leader's Raft port then refuses connections (its process is gone), a "
          + "follower starts an election at once instead of after the election timeout.");
  public static final Setting<Duration> RAFT_PEER_REQUEST_TIMEOUT = Setting.optional("raft.peerRequestTimeout",
      duration(Duration.ofMillis(100), Duration.ofMinutes(5)), "2s",
      "One replica-to-replica call (append entries, a snapshot chunk).");
  public static final Setting<Long> RAFT_ENTRY_BYTES_MAX = Setting.optional("raft.entryBytesMax", size(MIB, 512 * MIB),
      "32MiB", "The largest batch entry; a larger batch is refused before it reaches the Raft log.");
  public static final Setting<Long> RAFT_SNAPSHOT_EVERY_ENTRIES = Setting.optional("raft.snapshotEveryEntries",
      longInteger(2, 1_000_000_000), "1024",
      "A snapshot (a store checkpoint, taken beside the applies, not between them) every this many log entries; "
          + "the log is purged behind it, as far as every follower has committed.");
  public static final Setting<Long> RAFT_LOG_SEGMENT_BYTES = Setting.optional("raft.logSegmentBytes",
      size(16 * KIB, GIB), "8MiB", "A Raft log segment closes at this size; only closed segments are purged.");
  public static final Setting<Integer> RAFT_ENTRY_FORMAT = Setting.optional("raft.entryFormat", integer(1, 2), "2",
      "The batch entry format this replica writes when it leads. Set 1 only during a rolling upgrade from a build "
          + "that reads format 1 alone, until every replica runs this one (docs/operations.md).");

  // Client listener.
  public static final Setting<String> INGRESS_HOST = Setting.required("ingress.host", host(),
      "The address the client listener (TLS) binds, 127.0.0.1 for a local cluster.");
  public static final Setting<Integer> INGRESS_PORT = Setting.required("ingress.port", port(), "The client listener's port.");
  public static final Setting<Map<String, String>> INGRESS_PEERS = Setting.required("ingress.peers", peers(),
      "Every replica's client endpoint, for clients and the dashboard.");
  public static final Setting<Long> INGRESS_FRAME_BYTES_MAX = Setting.optional("ingress.frameBytesMax",
      size(KIB, 64 * MIB), "1MiB", "The largest frame a client may send; a larger one ends its connection.");
  public static final Setting<Integer> INGRESS_IN_FLIGHT_PER_CONNECTION_MAX = Setting.optional(
      "ingress.inFlightPerConnectionMax", integer(1, 10_000_000), "1024",
      "Requests one connection may have unanswered (at most ingress.inFlightTotalMax); past it, \"busy\".");
  public static final Setting<Integer> INGRESS_IN_FLIGHT_TOTAL_MAX = Setting.optional("ingress.inFlightTotalMax",
      integer(1, 10_000_000), "65536", "Requests all connections together may have unanswered; past it, \"busy\".");

  // Admin and dashboard listener.
  public static final Setting<String> HTTP_HOST = Setting.optional("http.host", host(), "127.0.0.1",
      "The address the admin API and dashboard (plain HTTP, read-only) bind; it answers anyone who can reach it.")
      .knownAs("admin.host");
  public static final Setting<Integer> HTTP_PORT = Setting.derived("http.port", port(), "ingress.port + 100",
      "The admin listener's port.").knownAs("admin.port");
  public static final Setting<Map<String, String>> HTTP_PEERS = Setting.derived("http.peers", peers(),
      "each ingress.peers port + 100", "Every replica's admin listener, for the dashboard's cluster view.");
  public static final Setting<Duration> HTTP_PEER_TIMEOUT = Setting.optional("http.peerTimeout",
      duration(Duration.ofMillis(10), Duration.ofSeconds(10)), "500ms",
      "How long the dashboard's cluster view waits for each peer.").knownAs("admin.peerTimeout");

  // TLS material.
  public static final Setting<Path> TLS_CA = Setting.required("tls.ca", file(),
      "The cluster CA's certificate (PEM): every peer and client certificate must be issued by it.");
  public static final Setting<Path> TLS_CERTIFICATE = Setting.required("tls.certificate", file(),
      "This replica's certificate (PEM), for clients and for the other replicas (mutual TLS).");
  public static final Setting<Path> TLS_KEY = Setting.required("tls.key", file(),
      "This replica's TLS private key (PKCS#8 PEM).");

  // The request pipeline.
  public static final Setting<ReceiptMode> ENGINE_RECEIPT_MODE = Setting.optional("engine.receiptMode",
      choice(ReceiptMode.class), "per-batch",
      "per-batch: one signed head per batch and an inclusion proof per request; per-request: a signature each.");
  public static final Setting<Boolean> ENGINE_STATE_PROOFS_IN_RECEIPTS = Setting.optional("engine.stateProofsInReceipts",
      bool(), "true", "Whether per-batch receipts carry proofs of the state entries the request wrote.");
  public static final Setting<Integer> ENGINE_BATCH_REQUESTS_MAX = Setting.optional("engine.batchRequestsMax",
      integer(1, 1_000_000), "4096", "A batch closes when it holds this many requests...");
  public static final Setting<Long> ENGINE_BATCH_BYTES_MAX = Setting.optional("engine.batchBytesMax",
      size(KIB, 256 * MIB), "8MiB", "... or when its writes reach this many bytes; below raft.entryBytesMax.");
  public static final Setting<Duration> ENGINE_BATCH_DELAY = Setting.optional("engine.batchDelay",
      duration(Duration.ZERO, Duration.ofSeconds(60)), "0ms",
      "0: adaptive, a batch closes as soon as the pipeline has room; otherwise a fixed time slice.")
      .knownAs("engine.batchDelayMs");
  public static final Setting<Integer> ENGINE_PIPELINE_DEPTH = Setting.optional("engine.pipelineDepth", integer(2, 64), "2",
      "Batches in flight: processed, not yet committed.");
  public static final Setting<Integer> ENGINE_QUEUE_REQUESTS_MAX = Setting.optional("engine.queueRequestsMax",
      integer(1, 10_000_000), "100000", "Validated requests waiting for the sequencer; past it, \"busy\".");
  public static final Setting<Integer> ENGINE_VALIDATION_THREADS = Setting.optional("engine.validationThreads",
      integer(0, 1024), "0", "Threads for signature checks and optimistic validation; 0: max(2, available processors).");

  // The authenticated state.
  public static final Setting<Integer> STATE_RETAINED_VERSIONS = Setting.optional("state.retainedVersions",
      integer(1, 1_000_000), "128",
      "The retention window: how many of the latest state roots stay readable; proofs under older ones are refused.");
  public static final Setting<Integer> STATE_COLLECT_DELETES_MAX = Setting.optional("state.collectDeletesMax",
      integer(1, 1_000_000), "4096", "The most node deletions the garbage collector writes in one store batch.");
  public static final Setting<Integer> STATE_JOURNAL_CHUNK_DIGESTS = Setting.optional("state.journalChunkDigests",
      integer(1, 100_000), "4096", "Stale nodes per collection-journal record, so a huge batch never makes one huge value.");
  public static final Setting<Integer> STATE_LINKED_DEPTH = Setting.optional("state.linkedDepth", integer(0, 6), "4",
      "The trie's levels down to this depth stay linked in memory (about 70,000 nodes, 50 MB, for 4).");

  // The local store.
  public static final Setting<Long> STORE_CACHE_BYTES_MAX = Setting.optional("store.cacheBytesMax", size(0, 1L << 40),
      "64MiB", "Bound on the encoded bytes of the decoded-object cache in front of RocksDB.");

  /** The admin listener's port is the client port plus this, unless http.port is set. */
  public static final int HTTP_PORT_OFFSET = 100;

  /** Every setting, in the order of the reference. */
  public static final List<Setting<?>> ALL = List.of(CLUSTER_NAME, REPLICA_ID, OPERATOR_ID, OPERATOR_KEY, ADMIN_PUBLIC_KEY,
      RAFT_PEERS, RAFT_ELECTION_TIMEOUT_MIN, RAFT_ELECTION_TIMEOUT_MAX, RAFT_ELECT_ON_LEADER_EXIT, RAFT_PEER_REQUEST_TIMEOUT, RAFT_ENTRY_BYTES_MAX,
      RAFT_SNAPSHOT_EVERY_ENTRIES, RAFT_LOG_SEGMENT_BYTES, RAFT_ENTRY_FORMAT,
      INGRESS_HOST, INGRESS_PORT, INGRESS_PEERS, INGRESS_FRAME_BYTES_MAX, INGRESS_IN_FLIGHT_PER_CONNECTION_MAX,
      INGRESS_IN_FLIGHT_TOTAL_MAX,
      HTTP_HOST, HTTP_PORT, HTTP_PEERS, HTTP_PEER_TIMEOUT,
      TLS_CA, TLS_CERTIFICATE, TLS_KEY,
      ENGINE_RECEIPT_MODE, ENGINE_STATE_PROOFS_IN_RECEIPTS, ENGINE_BATCH_REQUESTS_MAX, ENGINE_BATCH_BYTES_MAX,
      ENGINE_BATCH_DELAY, ENGINE_PIPELINE_DEPTH, ENGINE_QUEUE_REQUESTS_MAX, ENGINE_VALIDATION_THREADS,
      STATE_RETAINED_VERSIONS, STATE_COLLECT_DELETES_MAX, STATE_JOURNAL_CHUNK_DIGESTS, STATE_LINKED_DEPTH,
      STORE_CACHE_BYTES_MAX);

  /** The groups in reference order, each with a heading. */
  public static final Map<String, String> GROUPS = groups();

  private static Map<String, String> groups() {
    Map<String, String> g = new LinkedHashMap<>();
    g.put("cluster", "Identity and keys");
    g.put("replica", "Identity and keys");
    g.put("operator", "Identity and keys");
    g.put("admin", "Identity and keys");
    g.put("raft", "Raft replication");
    g.put("ingress", "Client listener, TLS");
    g.put("http", "Admin API and dashboard listener, HTTP");
    g.put("tls", "TLS material");
    g.put("engine", "Request pipeline");
    g.put("state", "Authenticated state");
    g.put("store", "Local store");
    return g;
  }

  public static Optional<Setting<?>> find(String name) {
    return ALL.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  /**
   * Parses a replica's settings: every problem is collected, so that one start-up attempt names
   * all of them. Relative paths resolve against {@code base}.
   *
   * @throws SettingException naming each bad, missing or unknown setting
   */
  public static SettingValues parse(Map<String, String> written, Path base) {
    List<String> problems = new ArrayList<>();
    for (String key : written.keySet()) {
      if (find(key).isEmpty()) {
        problems.add("unknown setting '" + key + "'" + suggestion(key).map(s -> " (did you mean '" + s + "'?)").orElse("")
            + "; docs/configuration.md lists them all");
      }
    }
    Map<Setting<?>, Object> values = new LinkedHashMap<>();
    for (Setting<?> setting : ALL) {
      String text = written.get(setting.name());
      text = text == null ? null : text.strip();
      if (text == null || text.isEmpty()) {
        switch (setting.absent()) {
          case Setting.Absent.Required r -> problems.add("setting '" + setting.name() + "' is missing: " + setting.description());
          case Setting.Absent.Fixed(String fallback) -> values.put(setting, setting.type().parse(fallback, base));
          case Setting.Absent.Derived d -> { }
        }
        continue;
      }
      try {
        values.put(setting, setting.type().parse(text, base));
      } catch (SettingType.Invalid e) {
        problems.add("setting '" + setting.name() + "' must be " + setting.type().expectation() + ", got '" + text + "'"
            + (e.getMessage() == null ? "" : ": " + e.getMessage()));
      }
    }
    if (problems.isEmpty()) {
      derive(values, problems);
    }
    if (problems.isEmpty()) {
      crossCheck(values, problems);
    }
    if (!problems.isEmpty()) {
      throw new SettingException(problems);
    }
    return new SettingValues(values);
  }

  private static void derive(Map<Setting<?>, Object> values, List<String> problems) {
    int ingressPort = (Integer) values.get(INGRESS_PORT);
    if (!values.containsKey(HTTP_PORT)) {
      if (ingressPort + HTTP_PORT_OFFSET > 65535) {
        problems.add("setting 'http.port' must be set when ingress.port + " + HTTP_PORT_OFFSET + " ("
            + (ingressPort + HTTP_PORT_OFFSET) + ") is not a port");
      } else {
        values.put(HTTP_PORT, ingressPort + HTTP_PORT_OFFSET);
      }
    }
    if (!values.containsKey(HTTP_PEERS)) {
      @SuppressWarnings("unchecked")
      Map<String, String> ingressPeers = (Map<String, String>) values.get(INGRESS_PEERS);
      Map<String, String> shifted = new LinkedHashMap<>();
      ingressPeers.forEach((id, address) -> {
        int colon = address.lastIndexOf(':');
        int port = Integer.parseInt(address.substring(colon + 1)) + HTTP_PORT_OFFSET;
        if (port > 65535) {
          problems.add("setting 'http.peers' must be set when an ingress.peers port + " + HTTP_PORT_OFFSET + " (" + id + ": "
              + port + ") is not a port");
        }
        shifted.put(id, address.substring(0, colon + 1) + port);
      });
      values.put(HTTP_PEERS, java.util.Collections.unmodifiableMap(shifted));
    }
    if ((Integer) values.get(ENGINE_VALIDATION_THREADS) == 0) {
      values.put(ENGINE_VALIDATION_THREADS, Math.max(2, Runtime.getRuntime().availableProcessors()));
    }
  }

  /** The rules between settings of different records (a record checks its own). */
  private static void crossCheck(Map<Setting<?>, Object> values, List<String> problems) {
    String id = (String) values.get(REPLICA_ID);
    Map<?, ?> raft = (Map<?, ?>) values.get(RAFT_PEERS);
    if (!raft.containsKey(id)) {
      problems.add("setting 'replica.id' (" + id + ") must be one of the replicas in 'raft.peers' " + raft.keySet());
    }
    long batchBytes = (Long) values.get(ENGINE_BATCH_BYTES_MAX);
    long entryBytes = (Long) values.get(RAFT_ENTRY_BYTES_MAX);
    if (batchBytes >= entryBytes) {
      problems.add("setting 'engine.batchBytesMax' (" + SettingType.size(batchBytes) + ") must be below 'raft.entryBytesMax' ("
          + SettingType.size(entryBytes) + "): Raft would refuse every full batch");
    }
  }

  /** The known name closest to a mistyped one, if any is close: edit distance, case, or the record's own name. */
  static Optional<String> suggestion(String unknown) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (Setting<?> s : ALL) {
      if (s.recordName().filter(unknown::equalsIgnoreCase).isPresent() || s.name().equalsIgnoreCase(unknown)) {
        return Optional.of(s.name());
      }
      int d = distance(unknown.toLowerCase(Locale.ROOT), s.name().toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        bestDistance = d;
        best = s.name();
      }
    }
    if (best != null && bestDistance <= Math.max(2, unknown.length() / 4)) {
      return Optional.of(best);
    }
    // The right name in the wrong group (ingress.peerTimeout for http.peerTimeout).
    String tail = unknown.substring(unknown.indexOf('.') + 1);
    return ALL.stream().map(Setting::name).filter(n -> n.substring(n.indexOf('.') + 1).equalsIgnoreCase(tail)).findFirst();
  }

  /** Levenshtein distance, two rows. */
  private static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] t = previous;
      previous = current;
      current = t;
    }
    return previous[b.length()];
  }
}
