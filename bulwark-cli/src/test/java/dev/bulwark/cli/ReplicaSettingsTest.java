package dev.bulwark.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.cli.config.Setting;
import dev.bulwark.cli.config.Settings;
import dev.bulwark.server.admin.AdminConfig;
import dev.bulwark.server.engine.EngineConfig;
import dev.bulwark.server.engine.ReceiptMode;
import dev.bulwark.server.net.IngressConfig;
import dev.bulwark.server.raft.RaftSettings;
import dev.bulwark.store.StoreConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** replica.properties as an operator writes it: every setting reaches its record, every mistake is named. */
class ReplicaSettingsTest {
  @TempDir
  Path dir;

  @BeforeEach
  void keyFiles() throws IOException {
    for (String name : List.of("ca.crt", "replica.crt", "replica.key", "operator.key", "admin.pub", "other-ca.crt",
        "other.crt", "other.key", "other-operator.key", "other-admin.pub")) {
      Files.writeString(dir.resolve(name), "not checked here\n");
    }
  }

  /** The settings 'cluster init' writes: only the required ones. */
  static Map<String, String> minimal() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("cluster.name", "bulwark");
    m.put("replica.id", "r1");
    m.put("raft.peers", "r1=127.0.0.1:7001,r2=127.0.0.1:7002");
    m.put("ingress.host", "127.0.0.1");
    m.put("ingress.port", "8001");
    m.put("ingress.peers", "r1=127.0.0.1:8001,r2=127.0.0.1:8002");
    m.put("tls.ca", "ca.crt");
    m.put("tls.certificate", "replica.crt");
    m.put("tls.key", "replica.key");
    m.put("operator.id", "bulwark");
    m.put("operator.key", "operator.key");
    m.put("admin.publicKey", "admin.pub");
    return m;
  }

  Path write(Map<String, String> settings) throws IOException {
    Path file = dir.resolve("replica.properties");
    Files.write(file, settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
    return file;
  }

  ReplicaSettings read(Map<String, String> settings) throws IOException {
    return ReplicaSettings.read(write(settings));
  }

  String rejection(Map<String, String> settings) throws IOException {
    Path file = write(settings);
    var thrown = assertThatThrownBy(() -> ReplicaSettings.read(file)).isInstanceOf(UserError.class).actual();
    return thrown.getMessage();
  }

  Map<String, String> with(String... keyValues) {
    Map<String, String> m = minimal();
    for (int i = 0; i < keyValues.length; i += 2) {
      if (keyValues[i + 1] == null) {
        m.remove(keyValues[i]);
      } else {
        m.put(keyValues[i], keyValues[i + 1]);
      }
    }
    return m;
  }

  @Test
  void theDefaultsAreTheRecordsOwnDefaults() throws IOException {
    ReplicaSettings s = read(minimal());
    assertThat(s.engine()).isEqualTo(EngineConfig.defaults("bulwark"));
    assertThat(s.raft()).isEqualTo(RaftSettings.DEFAULT.withTls(
        new RaftSettings.Tls(dir.resolve("replica.crt"), dir.resolve("replica.key"), dir.resolve("ca.crt"))));
    IngressConfig loopback = IngressConfig.loopback(dir.resolve("replica.crt"), dir.resolve("replica.key"));
    assertThat(s.ingress()).isEqualTo(new IngressConfig("127.0.0.1", 8001, loopback.certificate(), loopback.privateKey(),
        loopback.frameBytesMax(), loopback.inFlightPerConnectionMax(), loopback.inFlightTotalMax(),
        java.util.Optional.of(dir.resolve("ca.crt"))));
    assertThat(s.admin()).isEqualTo(new AdminConfig("127.0.0.1", 8101,
        Map.of("r1", "127.0.0.1:8101", "r2", "127.0.0.1:8102"), AdminConfig.loopback().peerTimeout()));
    assertThat(s.storeCacheBytesMax()).isEqualTo(StoreConfig.CACHE_BYTES_DEFAULT);
  }

  /** Every setting with a value unlike its default, and where that value must show up. */
  record Probe(String text, Object expected, Function<ReplicaSettings, Object> observed) {}

  Map<String, Probe> nonDefaults() {
    Map<String, Probe> p = new LinkedHashMap<>();
    p.put("cluster.name", new Probe("other-cluster", "other-cluster", ReplicaSettings::cluster));
    p.put("replica.id", new Probe("r2", "r2", ReplicaSettings::id));
    p.put("operator.id", new Probe("op.2", "op.2", s -> s.engine().operatorId()));
    p.put("operator.key", new Probe("other-operator.key", dir.resolve("other-operator.key"), ReplicaSettings::operatorKey));
    p.put("admin.publicKey", new Probe("other-admin.pub", dir.resolve("other-admin.pub"), ReplicaSettings::adminPublicKey));
    p.put("raft.peers", new Probe("r1=10.0.0.1:9001, r2=10.0.0.2:9002", Map.of("r1", "10.0.0.1:9001", "r2", "10.0.0.2:9002"),
        ReplicaSettings::raftPeers));
    p.put("raft.electionTimeoutMin", new Probe("1s", Duration.ofSeconds(1), s -> s.raft().electionTimeoutMin()));
    p.put("raft.electionTimeoutMax", new Probe("3s", Duration.ofSeconds(3), s -> s.raft().electionTimeoutMax()));
    p.put("raft.electOnLeaderExit", new Probe("false", false, s -> s.raft().electOnLeaderExit()));
    p.put("raft.peerRequestTimeout", new Probe("7s", Duration.ofSeconds(7), s -> s.raft().peerRequestTimeout()));
    p.put("raft.entryBytesMax", new Probe("64MiB", 64 << 20, s -> s.raft().entryBytesMax()));
    p.put("raft.snapshotEveryEntries", new Probe("10_000", 10_000L, s -> s.raft().snapshotEveryEntries()));
    p.put("raft.logSegmentBytes", new Probe("4MiB", 4L << 20, s -> s.raft().logSegmentBytes()));
    p.put("raft.entryFormat", new Probe("1", 1, s -> s.raft().entryFormat()));
    p.put("ingress.host", new Probe("0.0.0.0", "0.0.0.0", s -> s.ingress().host()));
    p.put("ingress.port", new Probe("9443", 9443, s -> s.ingress().port()));
    p.put("ingress.peers", new Probe("r1=a.example:9443,r2=b.example:9443", Map.of("r1", "a.example:9443", "r2",
        "b.example:9443"), ReplicaSettings::ingressPeers));
    p.put("ingress.frameBytesMax", new Probe("256KiB", 256 << 10, s -> s.ingress().frameBytesMax()));
    p.put("ingress.inFlightPerConnectionMax", new Probe("64", 64, s -> s.ingress().inFlightPerConnectionMax()));
    p.put("ingress.inFlightTotalMax", new Probe("4096", 4096, s -> s.ingress().inFlightTotalMax()));
    p.put("http.host", new Probe("10.0.0.1", "10.0.0.1", s -> s.admin().host()));
    p.put("http.port", new Probe("9080", 9080, s -> s.admin().port()));
    p.put("http.peers", new Probe("r1=a.example:9080,r2=b.example:9080", Map.of("r1", "a.example:9080", "r2",
        "b.example:9080"), s -> s.admin().peers()));
    p.put("http.peerTimeout", new Probe("2s", Duration.ofSeconds(2), s -> s.admin().peerTimeout()));
    p.put("tls.ca", new Probe("other-ca.crt", dir.resolve("other-ca.crt"), s -> s.raft().tls().orElseThrow().ca()));
    p.put("tls.certificate", new Probe("other.crt", dir.resolve("other.crt"), s -> s.ingress().certificate()));
    p.put("tls.key", new Probe("other.key", dir.resolve("other.key"), s -> s.raft().tls().orElseThrow().privateKey()));
    p.put("engine.receiptMode", new Probe("per-request", ReceiptMode.PER_REQUEST, s -> s.engine().receiptMode()));
    p.put("engine.stateProofsInReceipts", new Probe("false", false, s -> s.engine().stateProofsInReceipts()));
    p.put("engine.batchRequestsMax", new Probe("512", 512, s -> s.engine().batchRequestsMax()));
    p.put("engine.batchBytesMax", new Probe("2MiB", 2L << 20, s -> s.engine().batchBytesMax()));
    p.put("engine.batchDelay", new Probe("150ms", 150L, s -> s.engine().batchDelayMs()));
    p.put("engine.pipelineDepth", new Probe("4", 4, s -> s.engine().pipelineDepth()));
    p.put("engine.queueRequestsMax", new Probe("5000", 5000, s -> s.engine().queueRequestsMax()));
    p.put("engine.validationThreads", new Probe("1001", 1001, s -> s.engine().validationThreads()));
    p.put("state.retainedVersions", new Probe("16", 16, s -> s.engine().state().retainedVersions()));
    p.put("state.collectDeletesMax", new Probe("100", 100, s -> s.engine().state().collectDeletesMax()));
    p.put("state.journalChunkDigests", new Probe("200", 200, s -> s.engine().state().journalChunkDigests()));
    p.put("state.linkedDepth", new Probe("2", 2, s -> s.engine().state().linkedDepth()));
    p.put("store.cacheBytesMax", new Probe("1GiB", 1L << 30, ReplicaSettings::storeCacheBytesMax));
    return p;
  }

  @Test
  void everySettingSetToANonDefaultValueReachesItsRecord() throws IOException {
    Map<String, Probe> probes = nonDefaults();
    // A setting added to the registry without a probe here fails this line: the mapping cannot drop one unseen.
    assertThat(probes.keySet()).containsExactlyInAnyOrderElementsOf(Settings.ALL.stream().map(Setting::name).toList());
    ReplicaSettings defaults = read(minimal());
    ReplicaSettings s = read(probes.entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().text(), (a, b) -> a, LinkedHashMap::new)));
    for (Map.Entry<String, Probe> e : probes.entrySet()) {
      Probe probe = e.getValue();
      assertThat(probe.observed().apply(s)).as(e.getKey()).isEqualTo(probe.expected());
      assertThat(probe.observed().apply(defaults)).as(e.getKey() + " differs from its default").isNotEqualTo(probe.expected());
    }
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(delimiter = ';', quoteCharacter = '"', value = {
      "engine.batchRequestsMax; many; a whole number from 1 to 1,000,000; not a whole number",
      "engine.batchRequestsMax; 2.5; a whole number from 1 to 1,000,000; not a whole number",
      "engine.pipelineDepth; 65; a whole number from 2 to 64; '65'",
      "engine.queueRequestsMax; 0; a whole number from 1 to 10,000,000; '0'",
      "raft.snapshotEveryEntries; 99999999999999999999; 2 to 1,000,000,000; too large",
      "raft.peerRequestTimeout; 5; 100ms to 5m; a unit is needed",
      "raft.peerRequestTimeout; 5sec; 100ms to 5m; unknown unit 'sec'",
      "raft.peerRequestTimeout; 50ms; 100ms to 5m; '50ms'",
      "engine.batchBytesMax; 8MB; 1KiB to 256MiB; unknown unit 'MB'",
      "engine.batchBytesMax; 512MiB; 1KiB to 256MiB; '512MiB'",
      "store.cacheBytesMax; -1MiB; 0B to 1TiB; not a number with a unit",
      "engine.stateProofsInReceipts; yes; true or false; 'yes'",
      "engine.receiptMode; per-txn; one of per-request, per-batch; 'per-txn'",
      "ingress.port; 70000; a port from 1 to 65,535; '70000'",
      "http.port; http; a port from 1 to 65,535; not a whole number",
      "ingress.host; bad host; a host name or IP address; 'bad host'",
      "raft.peers; r1=127.0.0.1; id=host:port; 'r1=127.0.0.1' is not id=host:port",
      "raft.peers; r1=127.0.0.1:7001 r2=127.0.0.1:7002; id=host:port; is not id=host:port",
      "raft.peers; r1=a:7001,r1=b:7002; id=host:port; replica 'r1' is listed twice",
      "ingress.peers; r1=a:99999; id=host:port; has port 99999",
      "tls.ca; missing.crt; a readable file; no readable file at",
      "replica.id; r 1; 1 to 32 of A-Z a-z 0-9 _ -; 'r 1'",
  })
  void aBadValueIsNamedWithItsRange(String key, String value, String range, String reason) throws IOException {
    String message = rejection(with(key, value));
    assertThat(message).contains("setting '" + key + "' must be", range, "got '" + value + "'", reason)
        .startsWith(dir.resolve("replica.properties").toString());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = ';', quoteCharacter = '"', value = {
      "engine.batchRequestMax; engine.batchRequestsMax",
      "Engine.BatchRequestsMax; engine.batchRequestsMax",
      "raft.electionTimeout.min; raft.electionTimeoutMin",
      "engine.batchDelayMs; engine.batchDelay",
      "admin.peerTimeout; http.peerTimeout",
      "ingress.peerTimeout; http.peerTimeout",
      "store.cacheSize; \"\"",
  })
  void anUnknownSettingIsRefusedWithTheClosestName(String key, String suggestion) throws IOException {
    String message = rejection(with(key, "1"));
    assertThat(message).contains("unknown setting '" + key + "'");
    if (suggestion.isEmpty()) {
      assertThat(message).doesNotContain("did you mean");
    } else {
      assertThat(message).contains("did you mean '" + suggestion + "'?");
    }
  }

  @Test
  void aMissingSettingIsNamed() throws IOException {
    assertThat(rejection(with("tls.key", null))).contains("setting 'tls.key' is missing");
    assertThat(rejection(with("raft.peers", "  "))).contains("setting 'raft.peers' is missing");
  }

  @Test
  void everyProblemIsNamedAtOnce() throws IOException {
    String message = rejection(with("engine.pipelineDepth", "1", "ingress.port", "x", "engine.batchSize", "5"));
    assertThat(message.lines()).hasSize(3);
    assertThat(message).contains("'engine.pipelineDepth'", "'ingress.port'", "'engine.batchSize'");
  }

  @Test
  void conflictsBetweenSettingsNameEachOfThem() throws IOException {
    assertThat(rejection(with("raft.electionTimeoutMin", "700ms")))
        .contains("'raft.electionTimeoutMin' (700ms)", "'raft.electionTimeoutMax' (600ms)", "rejected");
    assertThat(rejection(with("ingress.inFlightPerConnectionMax", "2000", "ingress.inFlightTotalMax", "1000")))
        .contains("'ingress.inFlightPerConnectionMax' (2000)", "'ingress.inFlightTotalMax' (1000)");
    assertThat(rejection(with("engine.batchBytesMax", "64MiB")))
        .contains("'engine.batchBytesMax' (64MiB) must be below 'raft.entryBytesMax' (32MiB)");
    assertThat(rejection(with("replica.id", "r9"))).contains("'replica.id' (r9) must be one of the replicas in 'raft.peers'");
    assertThat(rejection(with("ingress.port", "65500"))).contains("'http.port' must be set");
    assertThat(rejection(with("ingress.peers", "r1=127.0.0.1:8001,r2=127.0.0.1:65500"))).contains("'http.peers' must be set");
    assertThat(read(with("ingress.port", "65500", "http.port", "9000")).httpPort()).isEqualTo(9000);
  }

  @Test
  void aRecordsRefusalIsReportedUnderTheSettingsItNames() throws IOException {
    var values = Settings.parse(minimal(), dir);
    // The registry's ranges keep these from happening today; the net below them must still name settings, not fields.
    assertThatThrownBy(() -> ReplicaSettings.build(values, List.of(Settings.ENGINE_BATCH_DELAY, Settings.ENGINE_PIPELINE_DEPTH),
        () -> {
          throw new IllegalArgumentException("engine.batchDelayMs must be between 0 and 60000, got 70000");
        })).hasMessage("setting 'engine.batchDelay' (0ms) is rejected: engine.batchDelay must be between 0 and 60000, got 70000");
    assertThatThrownBy(() -> ReplicaSettings.build(values, List.of(Settings.HTTP_PORT, Settings.HTTP_PEER_TIMEOUT),
        () -> {
          throw new IllegalArgumentException("something the record does not explain");
        })).hasMessageContaining("settings 'http.port' (8101), 'http.peerTimeout' (500ms) are rejected");
  }

  @Test
  void serveStopsBeforeOpeningAnythingAndNamesTheSetting() throws IOException {
    Path file = write(with("engine.batchDelay", "100 parsecs"));
    CommandLineTest.Run r = CommandLineTest.run("serve", file.toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("setting 'engine.batchDelay'", "'100 parsecs'", "0ms to 1m", "unknown unit 'parsecs'")
        .doesNotContain("Exception");
    assertThat(dir.resolve("data")).doesNotExist();
  }

  @Test
  void configCheckAcceptsAGoodFileAndNamesTheProblemsOfABadOne() throws IOException {
    Path file = write(minimal());
    CommandLineTest.Run good = CommandLineTest.run("config", "check", file.toString());
    assertThat(good.exit()).as(good.err()).isZero();
    assertThat(good.out()).contains("settings valid");
    write(with("engine.pipelineDepth", "1"));
    CommandLineTest.Run bad = CommandLineTest.run("config", "check", file.toString());
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err()).contains("setting 'engine.pipelineDepth' must be a whole number from 2 to 64, got '1'");
  }

  @Test
  void theCommentedDefaultsFileParsesToTheDefaults() throws IOException {
    // Uncomment every setting 'config defaults' shows with a value; fill in the required ones.
    Map<String, String> all = minimal();
    for (String line : ReferenceDefaults.lines()) {
      if (line.matches("#[a-z]+\\.[A-Za-z]+=.+")) {
        all.put(line.substring(1, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
      }
    }
    assertThat(all.size()).isGreaterThan(minimal().size() + 20);
    ReplicaSettings fromDefaults = read(all);
    ReplicaSettings minimalOnly = read(minimal());
    assertThat(fromDefaults.engine()).isEqualTo(minimalOnly.engine());
    assertThat(fromDefaults.raft()).isEqualTo(minimalOnly.raft());
    assertThat(fromDefaults.ingress()).isEqualTo(minimalOnly.ingress());
    assertThat(fromDefaults.admin()).isEqualTo(minimalOnly.admin());
    assertThat(fromDefaults.storeCacheBytesMax()).isEqualTo(minimalOnly.storeCacheBytesMax());
  }

  /** The output of 'bulwark config defaults'. */
  static final class ReferenceDefaults {
    static List<String> lines() {
      CommandLineTest.Run r = CommandLineTest.run("config", "defaults");
      assertThat(r.exit()).isZero();
      return r.out().lines().toList();
    }
  }
}
