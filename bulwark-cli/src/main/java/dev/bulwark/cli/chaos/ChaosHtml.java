package dev.bulwark.cli.chaos;

import java.io.PrintWriter;
import java.io.StringWriter;
import dev.bulwark.cli.Html;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A chaos run as one self-contained HTML page (inline SVG, no scripts, nothing fetched): the
 * report, operations completed per second with every injected fault marked on the timeline,
 * and the latency histogram of the operations that succeeded.
 */
public final class ChaosHtml {
  private ChaosHtml() {}

  private static final int WIDTH = 900;
  private static final int PAD = 40;

  public static String render(List<History.Event> events, ChaosReport report, long seed) {
    StringWriter text = new StringWriter();
    report.print(new PrintWriter(text, true));
    Map<String, Long> invoked = new HashMap<>();
    List<Long> okSeconds = new ArrayList<>();
    List<Long> failedSeconds = new ArrayList<>();
    List<Long> latencies = new ArrayList<>();
    List<History.FaultEvent> faults = new ArrayList<>();
    long endMicros = 1;
    for (History.Event e : events) {
      endMicros = Math.max(endMicros, e.micros());
      switch (e) {
        case History.Invoke i -> invoked.put(i.process() + "/" + i.id(), i.micros());
        case History.Complete c -> {
          Long start = invoked.get(c.process() + "/" + c.id());
          if (c.completion().outcome() == History.Outcome.OK) {
            okSeconds.add(c.micros() / 1_000_000);
            if (start != null) {
              latencies.add(c.micros() - start);
            }
          } else {
            failedSeconds.add(c.micros() / 1_000_000);
          }
        }
        case History.FaultEvent f -> faults.add(f);
      }
    }
    int seconds = (int) (endMicros / 1_000_000) + 1;
    long[] ok = perSecond(okSeconds, seconds);
    long[] failed = perSecond(failedSeconds, seconds);
    StringBuilder out = new StringBuilder();
    out.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>bulwark chaos, seed ").append(seed)
        .append("</title>\n<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1d2433}")
        .append("pre{background:#f6f7f9;padding:1em}svg{background:#fff;border:1px solid #e5e7eb}</style></head><body>\n")
        .append("<h1>bulwark chaos, seed ").append(seed).append("</h1>\n<pre>").append(Html.escape(text.toString())).append("</pre>\n")
        .append("<h2>Operations per second, faults marked</h2>\n").append(timeline(ok, failed, faults, seconds))
        .append("<h2>Latency of successful operations</h2>\n").append(histogram(latencies))
        .append("</body></html>\n");
    return out.toString();
  }

  private static long[] perSecond(List<Long> seconds, int length) {
    long[] counts = new long[length];
    for (long s : seconds) {
      if (s >= 0 && s < length) {
        counts[(int) s]++;
      }
    }
    return counts;
  }

  private static String timeline(long[] ok, long[] failed, List<History.FaultEvent> faults, int seconds) {
    int h = 260;
    long max = 1;
    for (int i = 0; i < ok.length; i++) {
      max = Math.max(max, Math.max(ok[i], failed[i]));
    }
    double scaleX = (WIDTH - PAD - 10.0) / Math.max(1, seconds - 1);
    StringBuilder svg = new StringBuilder(String.format(Locale.ROOT,
        "<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"operations over time\">", WIDTH, h));
    for (History.FaultEvent f : faults) {
      double x = PAD + scaleX * f.micros() / 1e6;
      svg.append(String.format(Locale.ROOT, "<line class=\"fault\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#dc2626\" "
          + "stroke-dasharray=\"3,3\"><title>%s %s at %.1f s</title></line>", x, PAD / 2, x, h - PAD, Html.escape(f.kind()),
          Html.escape(f.replica()), f.micros() / 1e6));
      svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" fill=\"#dc2626\">%s</text>", x + 2,
          PAD / 2 + 8, Html.escape(f.kind())));
    }
    svg.append(path(ok, max, scaleX, h, "#16a34a")).append(path(failed, max, scaleX, h, "#9ca3af"));
    svg.append(String.format(Locale.ROOT, "<text x=\"2\" y=\"%d\" font-size=\"10\">%,d/s</text>", PAD, max));
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\">%d s</text>", WIDTH - 40, h - PAD + 14,
        seconds));
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#16a34a\">ok</text>"
        + "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#9ca3af\">not ok</text>", PAD, h - 8, PAD + 30, h - 8));
    return svg.append("</svg>\n").toString();
  }

  private static String path(long[] values, long max, double scaleX, int h, String color) {
    StringBuilder d = new StringBuilder();
    for (int i = 0; i < values.length; i++) {
      double y = h - PAD - (h - 2.0 * PAD) * values[i] / max;
      d.append(i == 0 ? "M" : "L").append(String.format(Locale.ROOT, "%.1f,%.1f", PAD + scaleX * i, y));
    }
    return "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.5\"/>";
  }

  /** Counts in buckets from 1 ms that double in width. */
  private static String histogram(List<Long> latencyMicros) {
    int h = 220;
    List<long[]> buckets = new ArrayList<>(); // {upToMicros, count}
    for (long upTo = 1000; buckets.isEmpty() || upTo / 2 <= latencyMicros.stream().mapToLong(Long::longValue).max().orElse(0);
        upTo *= 2) {
      buckets.add(new long[] {upTo, 0});
      if (buckets.size() > 40) {
        break;
      }
    }
    for (long v : latencyMicros) {
      for (long[] b : buckets) {
        if (v <= b[0]) {
          b[1]++;
          break;
        }
      }
    }
    long max = Math.max(1, buckets.stream().mapToLong(b -> b[1]).max().orElse(1));
    double bar = (WIDTH - PAD - 10.0) / buckets.size();
    StringBuilder svg = new StringBuilder(String.format(Locale.ROOT,
        "<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"latency histogram\">", WIDTH, h));
    for (int i = 0; i < buckets.size(); i++) {
      long[] b = buckets.get(i);
      double height = (h - 2.0 * PAD) * b[1] / max;
      double x = PAD + i * bar;
      svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#2563eb\">"
          + "<title>&#8804; %,d ms: %,d</title></rect>", x + 1, h - PAD - height, Math.max(1, bar - 2), height,
          b[0] / 1000, b[1]));
      svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"9\">%,d</text>", x, h - PAD + 12, b[0] / 1000));
    }
    svg.append(String.format(Locale.ROOT, "<text x=\"2\" y=\"%d\" font-size=\"10\">%,d</text>", PAD, max));
    return svg.append("</svg>\n").toString();
  }
}
