package dev.bulwark.cli.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Counts what the streams see and cuts it into one-second windows. Streams record latencies
 * (wait-free, into an HdrHistogram {@link Recorder}) and errors by kind from any thread; one
 * ticking thread closes a window every second. A window closed during warmup is shown and
 * dropped; after {@link #startMeasuring}, windows add up into the report's histogram and their
 * counts into the per-second throughput. Once the run is over, the transfers still in flight
 * are drained: what they bring ({@link #closeDrainWindow}, {@link #finish}) counts in the totals
 * but makes no throughput window, since nothing new was sent.
 */
public final class BenchMeter {
  private static final int SIGNIFICANT_DIGITS = 3;

  private final Recorder recorder = new Recorder(SIGNIFICANT_DIGITS);
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final Histogram measured = new Histogram(SIGNIFICANT_DIGITS);
  private final List<Long> windows = new ArrayList<>();
  private Map<String, Long> errorsBeforeMeasuring = Map.of();
  private boolean measuring;
  /** Transfers sent (or due) before this are warmup's, even when confirmed after it ended. */
  private volatile long measureFromNs = Long.MAX_VALUE;

  /** Which part of the run a window belongs to. */
  public enum Phase { WARMUP, MEASURED, DRAIN }

  /** One closed window, for the progress line. */
  public record Window(Phase phase, long confirmed, long p99Micros, long errorsSoFar) {}

  /** A transfer confirmed, applied and its receipt verified, {@code latencyNanos} after it was (to be) sent. */
  public void confirmed(long latencyNanos) {
    recorder.recordValue(Math.max(1, latencyNanos / 1000));
  }

  /**
   * As {@link #confirmed(long)}, for a transfer sent (or, in an open loop, due) at {@code sentNs}.
   * One sent during warmup is not measured even when its answer comes after warmup ended: on a
   * slow cluster an open loop's warmup backlog would otherwise count in the measured seconds,
   * which would then hold more transfers than the schedule sent in them.
   */
  public void confirmed(long sentNs, long latencyNanos) {
    if (sentNs < measureFromNs && measureFromNs != Long.MAX_VALUE) {
      return;
    }
    confirmed(latencyNanos);
  }

  public void error(String kind) {
    errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
  }

  /** Closes the second that just ended while transfers were being sent. */
  public synchronized Window closeWindow() {
    return close(measuring ? Phase.MEASURED : Phase.WARMUP);
  }

  /** Closes a second of the drain, after the last transfer was sent. */
  public synchronized Window closeDrainWindow() {
    return close(Phase.DRAIN);
  }

  private Window close(Phase phase) {
    Histogram interval = recorder.getIntervalHistogram();
    if (measuring) {
      measured.add(interval);
    }
    if (phase == Phase.MEASURED) {
      windows.add(interval.getTotalCount());
    }
    long p99 = interval.getTotalCount() == 0 ? -1 : interval.getValueAtPercentile(99);
    return new Window(phase, interval.getTotalCount(), p99, errorCount(errorsSince()));
  }

  /** Ends warmup: from now on, windows and errors count. */
  public synchronized void startMeasuring() {
    startMeasuring(System.nanoTime());
  }

  /** Ends warmup: windows and errors count from now on, and transfers sent from {@code fromNs} on. */
  public synchronized void startMeasuring(long fromNs) {
    measureFromNs = fromNs;
    recorder.getIntervalHistogram(); // nothing recorded before this point is measured
    errorsBeforeMeasuring = snapshot();
    measuring = true;
  }

  /** Takes the last, partial window into the totals and returns the report's figures. */
  public synchronized Totals finish() {
    Histogram tail = recorder.getIntervalHistogram();
    if (measuring) {
      measured.add(tail);
    }
    return new Totals(measured.copy(), List.copyOf(windows), errorsSince());
  }

  /** The measured figures. */
  public record Totals(Histogram latencyMicros, List<Long> windows, Map<String, Long> errors) {}

  private Map<String, Long> snapshot() {
    Map<String, Long> now = new TreeMap<>();
    errors.forEach((kind, count) -> now.put(kind, count.sum()));
    return now;
  }

  private Map<String, Long> errorsSince() {
    Map<String, Long> since = new TreeMap<>();
    snapshot().forEach((kind, count) -> {
      long n = count - errorsBeforeMeasuring.getOrDefault(kind, 0L);
      if (n > 0) {
        since.put(kind, n);
      }
    });
    return since;
  }

  private static long errorCount(Map<String, Long> errors) {
    return errors.values().stream().mapToLong(Long::longValue).sum();
  }
}
