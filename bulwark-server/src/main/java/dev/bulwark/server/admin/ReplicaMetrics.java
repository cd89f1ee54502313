package dev.bulwark.server.admin;

import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.server.net.IngressServer;
import dev.bulwark.server.raft.ReplicaServer;
import dev.bulwark.server.engine.PipelineObserver;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * One replica's metrics in a Prometheus registry: its Raft position, the store's and the
 * cache's figures (read when scraped, never pushed), and every client request the ingress
 * answered, by outcome, with a latency histogram. Also the recent latency percentiles the
 * dashboard charts.
 */
public final class ReplicaMetrics implements IngressServer.Observer, PipelineObserver {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, Timer> requests = new ConcurrentHashMap<>();
  private final Timer recent;
  private final DistributionSummary batchRequests;
  private final DistributionSummary batchBytes;
  private final Timer buildTime;
  private final Timer sealTime;
  private final Timer replicateCommitted;
  private final Timer replicateFailed;

  public ReplicaMetrics(ReplicaServer<?, ?> replica) {
    gauge("bulwark.raft.term", "the Raft term this replica is in", replica, r -> r.status().term());
    gauge("bulwark.raft.commit.index", "the highest Raft log index known committed", replica, r -> r.status().commitIndex());
    gauge("bulwark.raft.leader", "1 while this replica leads", replica, r -> "LEADER".equals(r.status().role()) ? 1 : 0);
    gauge("bulwark.sequencing", "1 while this replica's sequencer takes requests", replica, r -> r.isSequencing() ? 1 : 0);
    gauge("bulwark.applied.index", "the Raft log index this replica applied", replica, r -> r.replica().applied().logIndex());
    gauge("bulwark.applied.batch", "the batch number this replica applied", replica, r -> r.replica().applied().batchNumber());
    gauge("bulwark.confirmations", "confirmations in the log under the latest applied head", replica,
        r -> r.replica().lastHead().map(h -> h.head().logSize()).orElse(0L));
    gauge("bulwark.state.collection.backlog", "state versions released from the retention window whose nodes are not yet deleted",
        replica, r -> r.replica().state().collectionBacklog());
    FunctionCounter.builder("bulwark.state.nodes.collected", replica,
            r -> r.replica().collector().map(c -> (double) c.nodesDeleted()).orElse(0.0))
        .description("unreachable state nodes the collector deleted (since it last started)").register(registry);
    gauge("bulwark.state.collector.failed", "1 once the state collector stopped on an error (see the log)", replica,
        r -> r.replica().collector().map(c -> c.failure() == null ? 0 : 1).orElse(0));
    // The store and its cache are looked up on every scrape: a snapshot restore reopens them.
    FunctionCounter.builder("bulwark.cache.hits", replica, r -> cacheStats(r).hits())
        .description("object cache hits").register(registry);
    FunctionCounter.builder("bulwark.cache.misses", replica, r -> cacheStats(r).misses())
        .description("object cache misses").register(registry);
    FunctionCounter.builder("bulwark.cache.evictions", replica, r -> cacheStats(r).evictions())
        .description("object cache evictions").register(registry);
    gauge("bulwark.cache.hit.ratio", "object cache hits / (hits + misses) since start", replica,
        r -> cacheStats(r).hitRatio());
    gauge("bulwark.cache.bytes", "encoded bytes held by the object cache", replica,
        r -> cacheStats(r).weightBytes());
    var store = replica.replica().objects().store();
    for (String name : store.statistics().keySet()) {
      gauge("bulwark.store." + name.replace('-', '.'), "the store's " + name + " (" + store.backend() + ")", replica,
          r -> r.replica().objects().store().statistics().getOrDefault(name, 0L));
    }
    this.batchRequests = DistributionSummary.builder("bulwark.batch.requests").description("requests per batch")
        .publishPercentileHistogram().minimumExpectedValue(1.0).maximumExpectedValue(100_000.0).register(registry);
    this.batchBytes = DistributionSummary.builder("bulwark.batch.payload").baseUnit("bytes")
        .description("request payload bytes per batch").register(registry);
    this.buildTime = stage("build", "opening a batch to closing it: waiting for and applying requests");
    this.sealTime = stage("seal", "state root, confirmation log, signed head and receipts of a batch");
    this.replicateCommitted = Timer.builder("bulwark.batch.replicate").tag("committed", "true")
        .description("sealing a batch to its commit on a majority (or its failure)").publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(100_000)).maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
    this.replicateFailed = Timer.builder("bulwark.batch.replicate").tag("committed", "false")
        .description("sealing a batch to its commit on a majority (or its failure)").publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(100_000)).maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
    replica.observePipeline(this);
    this.recent = Timer.builder("bulwark.requests.recent")
        .description("latency of recently answered requests (a 10 s window), for the dashboard")
        .publishPercentiles(0.5, 0.99)
        .distributionStatisticExpiry(Duration.ofSeconds(10))
        .distributionStatisticBufferLength(2)
        .register(registry);
  }

  private Timer stage(String stage, String description) {
    return Timer.builder("bulwark.batch.stage").tag("stage", stage).description("time per batch in a stage of the leader's pipeline")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(10_000))
        .maximumExpectedValue(Duration.ofSeconds(10)).register(registry);
  }

  @Override
  public void sealed(long batchNumber, int requests, long payloadBytes, long buildNanos, long sealNanos) {
    batchRequests.record(requests);
    batchBytes.record(payloadBytes);
    buildTime.record(buildNanos, TimeUnit.NANOSECONDS);
    sealTime.record(sealNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void done(long batchNumber, int requests, boolean committed, long replicateNanos) {
    (committed ? replicateCommitted : replicateFailed).record(replicateNanos, TimeUnit.NANOSECONDS);
  }

  /** The figures of the cache in front of the replica's store as it is now (a restore replaces both). */
  private static dev.bulwark.store.CacheStats cacheStats(ReplicaServer<?, ?> replica) {
    return replica.replica().objects().cache().stats();
  }

  private <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value) {
    Gauge.builder(name, source, value).description(description).register(registry);
  }

  @Override
  public void answered(Outcome outcome, long nanos) {
    String kind = kind(outcome);
    requests.computeIfAbsent(kind, k -> Timer.builder("bulwark.requests")
        .description("client requests answered by the ingress, by outcome, from arrival to answer")
        .tag("outcome", k)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(100_000))
        .maximumExpectedValue(Duration.ofSeconds(30))
        .register(registry)).record(nanos, TimeUnit.NANOSECONDS);
    recent.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** A stable label for an outcome: applied, refused (confirmed refusals), rejected, busy, ... */
  static String kind(Outcome outcome) {
    return switch (outcome) {
      case Outcome.Confirmed c when c.result() instanceof ResultEnvelope.Refused -> "refused";
      case Outcome.Confirmed c -> "applied";
      case Outcome.Rejected r -> "rejected";
      case Outcome.Busy b -> "busy";
      case Outcome.NotLeader n -> "not_leader";
      case Outcome.NotCommitted n -> "not_committed";
      case Outcome.Unknown u -> "unknown";
    };
  }

  /** The Prometheus text exposition. */
  public String scrape() {
    return registry.scrape();
  }

  /** Median and 99th percentile of requests answered in about the last 10 seconds, in µs (null if none). */
  public Map<String, Object> recentLatency() {
    Map<String, Object> out = new java.util.LinkedHashMap<>();
    out.put("window", "10s");
    out.put("latencyP50Us", null);
    out.put("latencyP99Us", null);
    for (ValueAtPercentile v : recent.takeSnapshot().percentileValues()) {
      double us = v.value(TimeUnit.MICROSECONDS);
      if (!Double.isNaN(us) && us > 0) {
        out.put(v.percentile() == 0.5 ? "latencyP50Us" : "latencyP99Us", Math.round(us));
      }
    }
    return out;
  }
}
