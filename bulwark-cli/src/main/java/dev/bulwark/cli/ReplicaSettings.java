package dev.bulwark.cli;

import static dev.bulwark.cli.config.Settings.*;

import dev.bulwark.cli.config.Setting;
import dev.bulwark.cli.config.SettingException;
import dev.bulwark.cli.config.SettingValues;
import dev.bulwark.cli.config.Settings;
import dev.bulwark.server.admin.AdminConfig;
import dev.bulwark.server.engine.EngineConfig;
import dev.bulwark.server.net.IngressConfig;
import dev.bulwark.server.raft.RaftSettings;
import dev.bulwark.store.StoreConfig;
import dev.bulwark.store.state.StateConfig;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One replica's configuration ({@code replica.properties}), as {@code bulwark cluster init}
 * writes it and {@code bulwark serve} reads it: the settings of the registry ({@link Settings},
 * documented in docs/configuration.md) mapped onto the config records that validate them. Any
 * bad, missing or unknown setting stops start-up, before anything opens, with a message that
 * names it; a record's refusal of a combination is reported under the settings it names.
 *
 * @param file the file read
 * @param cluster the cluster's name (its Raft group)
 * @param id this replica's id
 * @param raftPeers id -> host:port of every replica's Raft endpoint
 * @param ingressPeers id -> host:port of every replica's client endpoint
 * @param operatorKey the operator's signing key (PEM, mode 0600)
 * @param adminPublicKey the key that signs deposits and withdrawals
 * @param engine the request pipeline's limits, the state's among them
 * @param raft the Raft limits, with mutual TLS from this replica's certificate
 * @param ingress the client listener, accepting client certificates from the cluster CA
 * @param admin the admin and dashboard listener
 * @param storeCacheBytesMax the store's object cache bound
 */
record ReplicaSettings(Path file, String cluster, String id, Map<String, String> raftPeers,
    Map<String, String> ingressPeers, Path operatorKey, Path adminPublicKey, EngineConfig engine, RaftSettings raft,
    IngressConfig ingress, AdminConfig admin, long storeCacheBytesMax) {

  /** The admin listener's port is the client port plus this, unless set. */
  static final int HTTP_PORT_OFFSET = Settings.HTTP_PORT_OFFSET;

  static ReplicaSettings read(Path file) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IOException | IllegalArgumentException e) {
      throw new UserError("cannot read " + file + ": " + e.getMessage());
    }
    Map<String, String> written = new LinkedHashMap<>();
    p.stringPropertyNames().stream().sorted().forEach(name -> written.put(name, p.getProperty(name)));
    try {
      return of(file, Settings.parse(written, file.toAbsolutePath().getParent()));
    } catch (SettingException e) {
      throw new UserError(e.problems().stream().map(problem -> file + ": " + problem).collect(Collectors.joining("\n")));
    }
  }

  /** Maps parsed settings onto the config records; a record's refusal names the settings it concerns. */
  static ReplicaSettings of(Path file, SettingValues v) {
    StateConfig state = build(v, List.of(STATE_RETAINED_VERSIONS, STATE_COLLECT_DELETES_MAX, STATE_JOURNAL_CHUNK_DIGESTS,
        STATE_LINKED_DEPTH), () -> new StateConfig(v.get(STATE_RETAINED_VERSIONS), v.get(STATE_COLLECT_DELETES_MAX),
            v.get(STATE_JOURNAL_CHUNK_DIGESTS), v.get(STATE_LINKED_DEPTH)));
    EngineConfig engine = build(v, List.of(OPERATOR_ID, ENGINE_RECEIPT_MODE, ENGINE_STATE_PROOFS_IN_RECEIPTS,
        ENGINE_BATCH_REQUESTS_MAX, ENGINE_BATCH_BYTES_MAX, ENGINE_BATCH_DELAY, ENGINE_PIPELINE_DEPTH, ENGINE_QUEUE_REQUESTS_MAX,
        ENGINE_VALIDATION_THREADS), () -> new EngineConfig(v.get(OPERATOR_ID), v.get(ENGINE_RECEIPT_MODE),
            v.get(ENGINE_STATE_PROOFS_IN_RECEIPTS), v.get(ENGINE_BATCH_REQUESTS_MAX), v.get(ENGINE_BATCH_BYTES_MAX),
            v.get(ENGINE_BATCH_DELAY).toMillis(), v.get(ENGINE_PIPELINE_DEPTH), v.get(ENGINE_QUEUE_REQUESTS_MAX),
            v.get(ENGINE_VALIDATION_THREADS), state));
    RaftSettings raft = build(v, List.of(RAFT_ELECTION_TIMEOUT_MIN, RAFT_ELECTION_TIMEOUT_MAX, RAFT_ELECT_ON_LEADER_EXIT,
        RAFT_PEER_REQUEST_TIMEOUT,
        RAFT_ENTRY_BYTES_MAX, RAFT_SNAPSHOT_EVERY_ENTRIES, RAFT_LOG_SEGMENT_BYTES, RAFT_ENTRY_FORMAT, TLS_CERTIFICATE, TLS_KEY,
        TLS_CA),
        () -> new RaftSettings(v.get(RAFT_ELECTION_TIMEOUT_MIN), v.get(RAFT_ELECTION_TIMEOUT_MAX),
            v.get(RAFT_PEER_REQUEST_TIMEOUT), Math.toIntExact(v.get(RAFT_ENTRY_BYTES_MAX)), v.get(RAFT_SNAPSHOT_EVERY_ENTRIES),
            v.get(RAFT_LOG_SEGMENT_BYTES),
            Optional.of(new RaftSettings.Tls(v.get(TLS_CERTIFICATE), v.get(TLS_KEY), v.get(TLS_CA))))
            .electingOnLeaderExit(v.get(RAFT_ELECT_ON_LEADER_EXIT)).writingEntryFormat(v.get(RAFT_ENTRY_FORMAT)));
    IngressConfig ingress = build(v, List.of(INGRESS_HOST, INGRESS_PORT, TLS_CERTIFICATE, TLS_KEY, INGRESS_FRAME_BYTES_MAX,
        INGRESS_IN_FLIGHT_PER_CONNECTION_MAX, INGRESS_IN_FLIGHT_TOTAL_MAX, TLS_CA),
        () -> new IngressConfig(v.get(INGRESS_HOST), v.get(INGRESS_PORT), v.get(TLS_CERTIFICATE), v.get(TLS_KEY),
            Math.toIntExact(v.get(INGRESS_FRAME_BYTES_MAX)), v.get(INGRESS_IN_FLIGHT_PER_CONNECTION_MAX),
            v.get(INGRESS_IN_FLIGHT_TOTAL_MAX), Optional.of(v.get(TLS_CA))));
    AdminConfig admin = build(v, List.of(HTTP_HOST, HTTP_PORT, HTTP_PEERS, HTTP_PEER_TIMEOUT),
        () -> new AdminConfig(v.get(HTTP_HOST), v.get(HTTP_PORT), v.get(HTTP_PEERS), v.get(HTTP_PEER_TIMEOUT)));
    // The store's directory is the replica's data directory, known only at start; this checks the bound now.
    long cacheBytes = build(v, List.of(STORE_CACHE_BYTES_MAX),
        () -> StoreConfig.defaults(Path.of(".")).withCacheBytesMax(v.get(STORE_CACHE_BYTES_MAX)).cacheBytesMax());
    return new ReplicaSettings(file, v.get(CLUSTER_NAME), v.get(REPLICA_ID), v.get(RAFT_PEERS), v.get(INGRESS_PEERS),
        v.get(OPERATOR_KEY), v.get(ADMIN_PUBLIC_KEY), engine, raft, ingress, admin, cacheBytes);
  }

  static <T> T build(SettingValues v, List<Setting<?>> inputs, Supplier<T> make) {
    try {
      return make.get();
    } catch (IllegalArgumentException | NullPointerException | ArithmeticException e) {
      String message = String.valueOf(e.getMessage());
      List<Setting<?>> named = inputs.stream().filter(s -> mentions(message, s)).toList();
      String reason = message;
      if (named.isEmpty()) {
        named = inputs;
      }
      for (Setting<?> s : inputs) {
        if (s.recordName().isPresent()) {
          reason = reason.replaceAll(word(s.recordName().get()), s.name());
        }
      }
      String which = named.stream().map(s -> "'" + s.name() + "' (" + v.text(s) + ")").collect(Collectors.joining(", "));
      throw new SettingException(List.of((named.size() == 1 ? "setting " + which + " is" : "settings " + which + " are")
          + " rejected: " + reason));
    }
  }

  private static boolean mentions(String message, Setting<?> s) {
    return Pattern.compile(word(s.name())).matcher(message).find()
        || s.recordName().map(r -> Pattern.compile(word(r)).matcher(message).find()).orElse(false);
  }

  private static String word(String name) {
    return "(?<![A-Za-z.])" + Pattern.quote(name) + "(?![A-Za-z])";
  }

  String ingressHost() {
    return ingress.host();
  }

  int ingressPort() {
    return ingress.port();
  }

  Path ca() {
    return ingress.clientCa().orElseThrow();
  }

  Path certificate() {
    return ingress.certificate();
  }

  Path key() {
    return ingress.privateKey();
  }

  String operatorId() {
    return engine.operatorId();
  }

  String httpHost() {
    return admin.host();
  }

  int httpPort() {
    return admin.port();
  }

  Map<String, String> httpPeers() {
    return admin.peers();
  }

  static void write(Path file, Map<String, String> settings) {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write("# Bulwark replica configuration, written by 'bulwark cluster init'. Paths are relative to this file.\n");
      w.write("# Every other setting (batching, limits, timeouts, cache) has a default; docs/configuration.md lists\n");
      w.write("# them all, and 'bulwark config defaults' prints them as a commented file.\n");
      for (Map.Entry<String, String> e : settings.entrySet()) {
        w.write(e.getKey() + "=" + e.getValue() + "\n");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
