package dev.bulwark.cli.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** What the report prints about failovers and restarts. */
class ChaosReportTest {
  private static String print(ChaosReport report) {
    StringWriter text = new StringWriter();
    report.print(new PrintWriter(text, true));
    return text.toString();
  }

  private static ChaosReport report(Map<String, List<Long>> failovers, ChaosReport.Restarts restarts) {
    return new ChaosReport(Map.of("kill-leader", 10), Map.of(), 0, 0, failovers, List.of(), List.of(), restarts);
  }

  @Test
  void failoversHaveTheirMedianNinetiethPercentileAndMaximum() {
    List<Long> times = LongStream.rangeClosed(1, 10).map(i -> i * 100).boxed().toList();
    String text = print(report(Map.of("kill-leader", times), ChaosReport.Restarts.NONE));
    assertThat(text).contains("  kill-leader        n=10  p50 500 ms  p90 900 ms  max 1,000 ms");
    assertThat(text).doesNotContain("restarts (");
  }

  @Test
  void restartsSayHowLongTheyTookToCatchUpAndHowManyDidNot() {
    List<Long> caughtUp = LongStream.rangeClosed(1, 20).map(i -> i * 1_000).boxed().toList();
    String text = print(report(Map.of(), new ChaosReport.Restarts(caughtUp, 2, 60_000)));
    assertThat(text).contains(
        "restarts (restart to caught up with the leader): n=20  p50 10,000 ms  p90 18,000 ms  max 20,000 ms; 2 not within 60 s");
    String none = print(report(Map.of(), new ChaosReport.Restarts(List.of(), 1, 60_000)));
    assertThat(none).contains("restarts (restart to caught up with the leader): 1 not within 60 s");
  }
}
