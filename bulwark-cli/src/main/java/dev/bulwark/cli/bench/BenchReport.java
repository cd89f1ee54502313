package dev.bulwark.cli.bench;

import dev.bulwark.core.json.Json;
import dev.bulwark.cli.Html;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * The final figures of a bench run, rendered for people (a few lines) or for scripts (JSON, with
 * integers only: latencies in microseconds, throughput in transfers per second). Throughput is
 * given two ways: over the whole measured time, and as the median of the full one-second
 * windows, which a stall or a slow start does not drag down.
 *
 * @param source what was sent, e.g. "signed"
 * @param measuredNanos from the end of warmup until the last transfer was answered
 * @param confirmed transfers confirmed, applied and their receipts verified
 * @param windows transfers confirmed in each full measured second
 * @param errors errors by kind (see {@link ErrorKinds}), in name order
 * @param histogram confirmed transfers by latency, in buckets that double in width (for charts)
 * @param cpuNanos CPU time each process used while the run was measured (see {@link ProcessCpu}),
 *     by name; empty when not measured
 */
public record BenchReport(BenchPlan plan, String source, long measuredNanos, long confirmed, Latency latency,
    List<Long> windows, Map<String, Long> errors, List<Bucket> histogram, Map<String, Long> cpuNanos) {

  public BenchReport {
    windows = List.copyOf(windows);
    errors = new TreeMap<>(errors);
    histogram = List.copyOf(histogram);
    cpuNanos = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(cpuNanos));
  }

  /** A report without CPU figures. */
  public BenchReport(BenchPlan plan, String source, long measuredNanos, long confirmed, Latency latency,
      List<Long> windows, Map<String, Long> errors, List<Bucket> histogram) {
    this(plan, source, measuredNanos, confirmed, latency, windows, errors, histogram, Map.of());
  }

  /** This report with the CPU time each process used while it was measured. */
  public BenchReport withCpu(Map<String, Long> used) {
    return new BenchReport(plan, source, measuredNanos, confirmed, latency, windows, errors, histogram, used);
  }

  /**
   * CPU milliseconds per 1,000 confirmed transfers (= µs per transfer) of each measured process,
   * and "all" of them; when the JIT compilers' time was measured apart ({@link ProcessCpu#JIT}),
   * the processes are without it, and "all but jit" is their sum.
   */
  public Map<String, Long> cpuMillisPerThousand() {
    Map<String, Long> out = new LinkedHashMap<>();
    if (confirmed == 0 || cpuNanos.isEmpty()) {
      return out;
    }
    long all = 0;
    for (Map.Entry<String, Long> e : cpuNanos.entrySet()) {
      out.put(e.getKey(), Math.round(e.getValue() / 1e3 / confirmed));
      all += e.getValue();
    }
    out.put("all", Math.round(all / 1e3 / confirmed));
    Long jit = cpuNanos.get(ProcessCpu.JIT);
    if (jit != null) {
      out.put("all but jit", Math.round((all - jit) / 1e3 / confirmed));
    }
    return out;
  }

  /** A report without a latency histogram. */
  public BenchReport(BenchPlan plan, String source, long measuredNanos, long confirmed, Latency latency,
      List<Long> windows, Map<String, Long> errors) {
    this(plan, source, measuredNanos, confirmed, latency, windows, errors, List.of());
  }

  /** {@code count} transfers took at most {@code upToMicros} (and more than the bucket before). */
  public record Bucket(long upToMicros, long count) {}

  /** Buckets from 100 µs, each twice as wide as the one before, up to the slowest transfer. */
  static List<Bucket> buckets(Histogram micros) {
    List<Bucket> out = new ArrayList<>();
    if (micros.getTotalCount() == 0) {
      return out;
    }
    for (var v : micros.logarithmicBucketValues(100, 2.0)) {
      out.add(new Bucket(v.getValueIteratedTo(), v.getCountAddedInThisIterationStep()));
    }
    return out;
  }

  /** Latency percentiles in microseconds; all 0 when nothing was confirmed. */
  public record Latency(long p50, long p90, long p99, long p999, long max, long mean) {
    public static Latency of(Histogram micros) {
      if (micros.getTotalCount() == 0) {
        return new Latency(0, 0, 0, 0, 0, 0);
      }
      return new Latency(micros.getValueAtPercentile(50), micros.getValueAtPercentile(90),
          micros.getValueAtPercentile(99), micros.getValueAtPercentile(99.9), micros.getMaxValue(),
          Math.round(micros.getMean()));
    }
  }

  public static BenchReport of(BenchPlan plan, String source, long measuredNanos, BenchMeter.Totals totals) {
    return new BenchReport(plan, source, measuredNanos, totals.latencyMicros().getTotalCount(),
        Latency.of(totals.latencyMicros()), totals.windows(), totals.errors(), buckets(totals.latencyMicros()));
  }

  /** Confirmed per second over the whole measured time. */
  public double throughputPerSecond() {
    return measuredNanos <= 0 ? 0 : confirmed * 1e9 / measuredNanos;
  }

  /** The median count of the full one-second windows; empty if the run had none. */
  public OptionalLong medianWindow() {
    if (windows.isEmpty()) {
      return OptionalLong.empty();
    }
    long[] sorted = windows.stream().mapToLong(Long::longValue).sorted().toArray();
    return OptionalLong.of((sorted[(sorted.length - 1) / 2] + sorted[sorted.length / 2]) / 2);
  }

  public long errorTotal() {
    return errors.values().stream().mapToLong(Long::longValue).sum();
  }

  /** The run as people read it: what was sent, throughput, latency, errors. */
  public String text() {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "%s transfers from %d clients over %,d accounts, %s, %s%n", source, plan.clients(),
        plan.accounts(), loop(), length()));
    out.append(String.format(Locale.ROOT, "%,d transfers confirmed and their receipts verified in %.1f s: %,.0f/s overall",
        confirmed, measuredNanos / 1e9, throughputPerSecond()));
    OptionalLong median = medianWindow();
    if (median.isPresent()) {
      out.append(String.format(Locale.ROOT, ", median %,d/s over %d one-second windows%n", median.getAsLong(),
          windows.size()));
    } else {
      out.append(String.format("%n"));
    }
    out.append(String.format(Locale.ROOT, "latency: p50 %s, p90 %s, p99 %s, p99.9 %s, max %s%n", millis(latency.p50()),
        millis(latency.p90()), millis(latency.p99()), millis(latency.p999()), millis(latency.max())));
    if (errors.isEmpty()) {
      out.append(String.format("errors: none%n"));
    } else {
      List<String> parts = new ArrayList<>();
      errors.forEach((kind, count) -> parts.add(String.format(Locale.ROOT, "%s %,d", kind, count)));
      out.append(String.format(Locale.ROOT, "errors: %,d (%s)%n", errorTotal(), String.join(", ", parts)));
    }
    Map<String, Long> cpu = cpuMillisPerThousand();
    if (!cpu.isEmpty()) {
      List<String> parts = new ArrayList<>();
      cpu.forEach((name, ms) -> parts.add(String.format(Locale.ROOT, "%s %,d", name, ms)));
      out.append(String.format(Locale.ROOT, "cpu ms per 1,000 confirmed (µs per transfer), measured time: %s%n",
          String.join(", ", parts)));
    }
    return out.toString();
  }

  /** The run for scripts: one JSON object. */
  public String json() {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("source", source);
    root.put("clients", plan.clients());
    root.put("accounts", plan.accounts());
    root.put("loop", plan.openLoop() ? "open" : "closed");
    root.put("ratePerSecond", plan.ratePerSecond().isPresent() ? (Object) plan.ratePerSecond().getAsLong() : null);
    root.put("warmupSeconds", plan.warmupSeconds());
    switch (plan.length()) {
      case BenchPlan.Length.Seconds s -> root.put("durationSeconds", s.seconds());
      case BenchPlan.Length.TransfersPerAccount t -> root.put("transfersPerAccount", t.transfers());
    }
    root.put("confirmed", confirmed);
    root.put("measuredMillis", measuredNanos / 1_000_000);
    root.put("throughputPerSecond", Math.round(throughputPerSecond()));
    OptionalLong median = medianWindow();
    root.put("medianWindowPerSecond", median.isPresent() ? (Object) median.getAsLong() : null);
    root.put("windows", List.copyOf(windows));
    Map<String, Object> lat = new LinkedHashMap<>();
    lat.put("p50", latency.p50());
    lat.put("p90", latency.p90());
    lat.put("p99", latency.p99());
    lat.put("p99.9", latency.p999());
    lat.put("max", latency.max());
    lat.put("mean", latency.mean());
    root.put("latencyMicros", lat);
    root.put("errorsTotal", errorTotal());
    root.put("errors", new LinkedHashMap<String, Object>(errors));
    if (!cpuNanos.isEmpty()) {
      root.put("cpuMillisPerThousand", new LinkedHashMap<String, Object>(cpuMillisPerThousand()));
    }
    return Json.write(root);
  }

  /**
   * The run as one self-contained HTML page (no scripts, nothing fetched): the figures, the
   * latency histogram and throughput over time as inline SVG.
   */
  public String html() {
    StringBuilder out = new StringBuilder();
    out.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>bulwark bench</title>\n")
        .append("<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1d2433}")
        .append("pre{background:#f6f7f9;padding:1em}svg{background:#fff;border:1px solid #e5e7eb}</style></head><body>\n")
        .append("<h1>bulwark bench</h1>\n<pre>").append(Html.escape(text())).append("</pre>\n");
    out.append("<h2>Latency histogram</h2>\n").append(histogramSvg());
    out.append("<h2>Throughput over time (confirmed per second)</h2>\n").append(throughputSvg());
    return out.append("</body></html>\n").toString();
  }

  private String histogramSvg() {
    int w = 720;
    int h = 240;
    int pad = 40;
    long max = histogram.stream().mapToLong(Bucket::count).max().orElse(1);
    StringBuilder svg = new StringBuilder(String.format(Locale.ROOT,
        "<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"latency histogram\">", w, h));
    int n = Math.max(1, histogram.size());
    double bar = (w - pad - 10.0) / n;
    for (int i = 0; i < histogram.size(); i++) {
      Bucket b = histogram.get(i);
      double height = (h - 2.0 * pad) * b.count() / Math.max(1, max);
      double x = pad + i * bar;
      svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#2563eb\">"
          + "<title>&#8804; %s: %,d</title></rect>", x + 1, h - pad - height, Math.max(1, bar - 2), height,
          millis(b.upToMicros()), b.count()));
      if (i % Math.max(1, n / 8) == 0) {
        svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\">%s</text>", x, h - pad + 14,
            millis(b.upToMicros())));
      }
    }
    svg.append(String.format(Locale.ROOT, "<text x=\"2\" y=\"%d\" font-size=\"10\">%,d</text>", pad, max));
    return svg.append("</svg>\n").toString();
  }

  private String throughputSvg() {
    int w = 720;
    int h = 200;
    int pad = 40;
    long max = windows.stream().mapToLong(Long::longValue).max().orElse(1);
    StringBuilder svg = new StringBuilder(String.format(Locale.ROOT,
        "<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"throughput over time\">", w, h));
    StringBuilder path = new StringBuilder();
    for (int i = 0; i < windows.size(); i++) {
      double x = pad + (w - pad - 10.0) * i / Math.max(1, windows.size() - 1);
      double y = h - pad - (h - 2.0 * pad) * windows.get(i) / Math.max(1, max);
      path.append(i == 0 ? "M" : "L").append(String.format(Locale.ROOT, "%.1f,%.1f", x, y));
    }
    svg.append("<path d=\"").append(path).append("\" fill=\"none\" stroke=\"#16a34a\" stroke-width=\"1.5\"/>");
    svg.append(String.format(Locale.ROOT, "<text x=\"2\" y=\"%d\" font-size=\"10\">%,d/s</text>", pad, max));
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\">%d s</text>", w - 40, h - pad + 14,
        windows.size()));
    return svg.append("</svg>\n").toString();
  }

  /** One progress line: elapsed seconds, confirmed in the last second, its p99, errors so far. */
  public static String progressLine(long elapsedSeconds, BenchMeter.Window w) {
    String phase = switch (w.phase()) {
      case WARMUP -> "(warmup)";
      case MEASURED -> "";
      case DRAIN -> "(drain)";
    };
    return String.format(Locale.ROOT, "%5d s %-8s  %,7d confirmed/s  p99 %9s  errors %,d", elapsedSeconds, phase,
        w.confirmed(), w.p99Micros() < 0 ? "-" : millis(w.p99Micros()), w.errorsSoFar());
  }

  private String loop() {
    return plan.ratePerSecond().isPresent()
        ? String.format(Locale.ROOT, "open loop at %,d/s (latency from each transfer's scheduled time)",
            plan.ratePerSecond().getAsLong())
        : "closed loop (one transfer in flight per client)";
  }

  private String length() {
    String warmup = plan.warmupSeconds() > 0 ? " after " + plan.warmupSeconds() + " s warmup" : "";
    return switch (plan.length()) {
      case BenchPlan.Length.Seconds s -> s.seconds() + " s measured" + warmup;
      case BenchPlan.Length.TransfersPerAccount t -> String.format(Locale.ROOT, "%,d transfers per account", t.transfers());
    };
  }

  static String millis(long micros) {
    return String.format(Locale.ROOT, "%.1f ms", micros / 1000.0);
  }
}
