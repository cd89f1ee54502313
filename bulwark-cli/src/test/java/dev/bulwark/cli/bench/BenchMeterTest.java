package dev.bulwark.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Window accounting: warmup shown and dropped, measured seconds counted, the drain counted but not a window. */
class BenchMeterTest {
  private static void confirm(BenchMeter meter, int count, long latencyMicros) {
    for (int i = 0; i < count; i++) {
      meter.confirmed(latencyMicros * 1000);
    }
  }

  @Test
  void warmupIsShownButNotMeasured() {
    BenchMeter meter = new BenchMeter();
    confirm(meter, 100, 900);
    meter.error("busy");
    assertThat(meter.closeWindow()).isEqualTo(new BenchMeter.Window(BenchMeter.Phase.WARMUP, 100, 900, 1));
    confirm(meter, 7, 5000); // sent in warmup, but not in a closed window: dropped when measuring starts
    meter.startMeasuring();

    confirm(meter, 10, 1000);
    confirm(meter, 1, 2000);
    meter.error("timeout");
    BenchMeter.Window measured = meter.closeWindow();
    assertThat(measured.phase()).isEqualTo(BenchMeter.Phase.MEASURED);
    assertThat(measured.confirmed()).isEqualTo(11);
    assertThat(measured.p99Micros()).isEqualTo(2000);
    assertThat(measured.errorsSoFar()).as("errors count from the end of warmup").isEqualTo(1);

    assertThat(meter.closeWindow()).isEqualTo(new BenchMeter.Window(BenchMeter.Phase.MEASURED, 0, -1, 1));

    confirm(meter, 3, 1800); // under 2048 µs, HdrHistogram keeps values exact at 3 digits
    assertThat(meter.closeDrainWindow()).isEqualTo(new BenchMeter.Window(BenchMeter.Phase.DRAIN, 3, 1800, 1));
    confirm(meter, 2, 2040);
    meter.error("timeout");
    meter.error("rejected:BAD_NONCE");

    BenchMeter.Totals totals = meter.finish();
    assertThat(totals.windows()).containsExactly(11L, 0L);
    assertThat(totals.latencyMicros().getTotalCount()).isEqualTo(11 + 3 + 2);
    assertThat(totals.latencyMicros().getMaxValue()).isEqualTo(2040);
    assertThat(totals.latencyMicros().getMinValue()).isEqualTo(1000);
    assertThat(totals.errors()).isEqualTo(Map.of("timeout", 2L, "rejected:BAD_NONCE", 1L));
  }

  @Test
  void withoutWarmupEveryWindowCounts() {
    BenchMeter meter = new BenchMeter();
    meter.startMeasuring();
    confirm(meter, 5, 100);
    meter.closeWindow();
    confirm(meter, 6, 100);
    meter.closeWindow();
    BenchMeter.Totals totals = meter.finish();
    assertThat(totals.windows()).isEqualTo(List.of(5L, 6L));
    assertThat(totals.latencyMicros().getTotalCount()).isEqualTo(11);
    assertThat(totals.errors()).isEmpty();
  }

  @Test
  void latenciesUnderAMicrosecondCountAsOne() {
    BenchMeter meter = new BenchMeter();
    meter.startMeasuring();
    meter.confirmed(10);
    assertThat(meter.finish().latencyMicros().getMaxValue()).isEqualTo(1);
  }

  @Test
  void aTransferSentDuringWarmupIsNotMeasuredWhenItsAnswerComesAfter() {
    BenchMeter meter = new BenchMeter();
    long warmupEnds = 5_000_000_000L;
    meter.confirmed(warmupEnds - 2_000_000_000L, 1_000_000); // answered during warmup
    assertThat(meter.closeWindow().confirmed()).isEqualTo(1);
    meter.startMeasuring(warmupEnds);
    meter.confirmed(warmupEnds - 1, 3_000_000_000L); // sent in warmup, answered 3 s later
    meter.confirmed(warmupEnds, 2_000_000);
    meter.confirmed(warmupEnds + 500_000_000L, 4_000_000);
    assertThat(meter.closeWindow().confirmed()).isEqualTo(2);
    BenchMeter.Totals totals = meter.finish();
    assertThat(totals.latencyMicros().getTotalCount()).isEqualTo(2);
    assertThat(totals.latencyMicros().getMaxValue()).isLessThan(5_000);
  }
}
