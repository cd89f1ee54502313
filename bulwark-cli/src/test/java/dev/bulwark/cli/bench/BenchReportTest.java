package dev.bulwark.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.core.json.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class BenchReportTest {
  private static final BenchPlan CLOSED = new BenchPlan(64, 128, 5, new BenchPlan.Length.Seconds(30), OptionalLong.empty());

  private static BenchReport sample() {
    Map<String, Long> errors = new LinkedHashMap<>();
    errors.put("timeout", 2L);
    errors.put("rejected:BAD_NONCE", 1L);
    return new BenchReport(CLOSED, "signed", 30_200_000_000L, 12_345,
        new BenchReport.Latency(150_100, 200_200, 300_300, 400_400, 500_500, 170_000), List.of(400L, 420L, 410L, 390L),
        errors);
  }

  @Test
  void cpuPerThousandConfirmedIsReportedPerProcessAndInAllWhenMeasured() {
    BenchReport r = sample();
    assertThat(r.text()).doesNotContain("cpu");
    assertThat(r.json()).doesNotContain("cpu");
    // 12,345 confirmed: 1,234.5 ms of CPU is 100 µs per transfer.
    BenchReport measured = r.withCpu(Map.of("r1", 1_234_500_000L));
    assertThat(measured.cpuMillisPerThousand()).containsEntry("r1", 100L).containsEntry("all", 100L);
    assertThat(measured.text()).contains("cpu ms per 1,000 confirmed (µs per transfer), measured time: r1 100, all 100");
    assertThat(measured.json().replaceAll("\\s", "")).contains("\"cpuMillisPerThousand\":{\"r1\":100,\"all\":100}");
    BenchReport jitApart = r.withCpu(Map.of("r1", 1_234_500_000L, ProcessCpu.JIT, 617_250_000L));
    assertThat(jitApart.cpuMillisPerThousand()).containsEntry("r1", 100L).containsEntry(ProcessCpu.JIT, 50L)
        .containsEntry("all", 150L).containsEntry("all but jit", 100L);
  }

  @Test
  void theHtmlReportChartsEveryBucketAndEverySecond() {
    Histogram micros = new Histogram(3);
    for (long v = 100; v <= 3_000; v += 100) {
      micros.recordValue(v);
    }
    List<BenchReport.Bucket> buckets = BenchReport.buckets(micros);
    // Buckets about 100, 200, 400, ... µs wide: every transfer lands in exactly one.
    assertThat(buckets.stream().mapToLong(BenchReport.Bucket::count).sum()).isEqualTo(30);
    assertThat(buckets.getLast().upToMicros()).isGreaterThanOrEqualTo(3_000);
    for (int i = 1; i < buckets.size(); i++) {
      assertThat(buckets.get(i).upToMicros()).isGreaterThan(buckets.get(i - 1).upToMicros());
    }
    BenchReport r = sample();
    BenchReport withHistogram = new BenchReport(r.plan(), "signed <&>", r.measuredNanos(), r.confirmed(), r.latency(),
        r.windows(), r.errors(), buckets);
    String html = withHistogram.html();
    assertThat(html).startsWith("<!doctype html>").contains("latency histogram", "throughput over time")
        .contains("signed &lt;&amp;&gt;").doesNotContain("signed <&>").doesNotContain("<script");
    assertThat(html.split("<rect ", -1)).hasSize(buckets.size() + 1);
  }

  @Test
  void latencyPercentilesComeFromTheHistogram() {
    Histogram micros = new Histogram(3);
    for (long v = 1; v <= 1000; v++) {
      micros.recordValue(v);
    }
    assertThat(BenchReport.Latency.of(micros)).isEqualTo(new BenchReport.Latency(500, 900, 990, 999, 1000, 501));
    assertThat(BenchReport.Latency.of(new Histogram(3))).isEqualTo(new BenchReport.Latency(0, 0, 0, 0, 0, 0));
  }

  @Test
  void throughputIsOverallAndTheMedianOfFullSeconds() {
    BenchReport r = sample();
    assertThat(r.throughputPerSecond()).isCloseTo(408.77, org.assertj.core.api.Assertions.within(0.01));
    assertThat(r.medianWindow()).hasValue(405); // (400 + 410) / 2
    assertThat(new BenchReport(CLOSED, "signed", 1, 0, r.latency(), List.of(3L, 1L, 2L), Map.of()).medianWindow()).hasValue(2);
    assertThat(new BenchReport(CLOSED, "signed", 1, 0, r.latency(), List.of(), Map.of()).medianWindow()).isEmpty();
    assertThat(r.errorTotal()).isEqualTo(3);
  }

  @Test
  void textSaysWhatRanAndWhatCameOut() {
    assertThat(sample().text()).isEqualTo("""
        signed transfers from 64 clients over 128 accounts, closed loop (one transfer in flight per client), 30 s measured \
        after 5 s warmup
        12,345 transfers confirmed and their receipts verified in 30.2 s: 409/s overall, median 405/s over 4 one-second windows
        latency: p50 150.1 ms, p90 200.2 ms, p99 300.3 ms, p99.9 400.4 ms, max 500.5 ms
        errors: 3 (rejected:BAD_NONCE 1, timeout 2)
        """);
    BenchPlan open = new BenchPlan(4, 4, 0, new BenchPlan.Length.TransfersPerAccount(5), OptionalLong.of(1500));
    String text = new BenchReport(open, "signed", 400_000_000L, 20, sample().latency(), List.of(), Map.of()).text();
    assertThat(text.lines().toList()).containsExactly(
        "signed transfers from 4 clients over 4 accounts, open loop at 1,500/s (latency from each transfer's scheduled time), "
            + "5 transfers per account",
        "20 transfers confirmed and their receipts verified in 0.4 s: 50/s overall",
        "latency: p50 150.1 ms, p90 200.2 ms, p99 300.3 ms, p99.9 400.4 ms, max 500.5 ms",
        "errors: none");
  }

  @Test
  void jsonHasEveryFigureAsAnInteger() {
    @SuppressWarnings("unchecked")
    Map<String, Object> json = (Map<String, Object>) Json.parse(sample().json());
    assertThat(json).containsEntry("source", "signed").containsEntry("clients", 64L).containsEntry("accounts", 128L)
        .containsEntry("loop", "closed").containsEntry("ratePerSecond", null).containsEntry("warmupSeconds", 5L)
        .containsEntry("durationSeconds", 30L).containsEntry("confirmed", 12_345L).containsEntry("measuredMillis", 30_200L)
        .containsEntry("throughputPerSecond", 409L).containsEntry("medianWindowPerSecond", 405L)
        .containsEntry("windows", List.of(400L, 420L, 410L, 390L)).containsEntry("errorsTotal", 3L)
        .containsEntry("errors", Map.of("rejected:BAD_NONCE", 1L, "timeout", 2L))
        .doesNotContainKey("transfersPerAccount");
    assertThat(json.get("latencyMicros")).isEqualTo(Map.of("p50", 150_100L, "p90", 200_200L, "p99", 300_300L,
        "p99.9", 400_400L, "max", 500_500L, "mean", 170_000L));

    BenchPlan open = new BenchPlan(4, 4, 0, new BenchPlan.Length.TransfersPerAccount(5), OptionalLong.of(1500));
    @SuppressWarnings("unchecked")
    Map<String, Object> counted = (Map<String, Object>) Json.parse(
        new BenchReport(open, "signed", 0, 0, sample().latency(), List.of(), Map.of()).json());
    assertThat(counted).containsEntry("loop", "open").containsEntry("ratePerSecond", 1500L)
        .containsEntry("transfersPerAccount", 5L).containsEntry("medianWindowPerSecond", null)
        .containsEntry("throughputPerSecond", 0L).containsEntry("errors", Map.of()).doesNotContainKey("durationSeconds");
  }

  @Test
  void progressLinesLineUp() {
    assertThat(BenchReport.progressLine(12, new BenchMeter.Window(BenchMeter.Phase.MEASURED, 1234, 45_200, 3)))
        .isEqualTo("   12 s " + " ".repeat(12) + "1,234 confirmed/s  p99   45.2 ms  errors 3");
    assertThat(BenchReport.progressLine(3, new BenchMeter.Window(BenchMeter.Phase.WARMUP, 12, -1, 0)))
        .isEqualTo("    3 s (warmup)       12 confirmed/s  p99         -  errors 0");
    assertThat(BenchReport.progressLine(31, new BenchMeter.Window(BenchMeter.Phase.DRAIN, 5, 2_000_000, 1)))
        .isEqualTo("   31 s (drain)         5 confirmed/s  p99 2000.0 ms  errors 1");
  }
}
