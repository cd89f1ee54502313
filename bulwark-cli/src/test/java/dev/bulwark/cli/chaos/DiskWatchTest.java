package dev.bulwark.cli.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskWatchTest {
  static final long GB = 1_000_000_000L;

  @TempDir
  Path dir;

  @Test
  void stopsWhenAnyPlaceFallsBelowTheFloorAndNamesIt() {
    Path history = dir.resolve("history.jsonl");
    Path cluster = dir.resolve("cluster");
    Map<Path, Long> free = new HashMap<>(Map.of(history, 50 * GB, cluster, 50 * GB));
    DiskWatch watch = new DiskWatch(List.of(history, cluster), 2 * GB, free::get);

    assertThat(watch.belowFloor()).isEmpty();
    free.put(cluster, 2 * GB); // exactly the floor is still enough
    assertThat(watch.belowFloor()).isEmpty();
    free.put(cluster, 2 * GB - 1);
    assertThat(watch.belowFloor()).hasValueSatisfying(why -> assertThat(why)
        .contains(cluster.toString()).contains("1,999 MB").contains("2,000 MB").contains("--min-free-mb"));
  }

  @Test
  void aFloorOfZeroNeverStops() {
    DiskWatch watch = new DiskWatch(List.of(dir), 0, p -> 0L);
    assertThat(watch.belowFloor()).isEmpty();
  }

  @Test
  void warnsWhenTheRunLooksLongerThanTheRoomAboveTheFloor() {
    DiskWatch watch = new DiskWatch(List.of(dir), 2 * GB, p -> 12 * GB);
    assertThat(watch.shortFor(10 * GB)).isEmpty();
    assertThat(watch.shortFor(10 * GB + 1)).hasValueSatisfying(w -> assertThat(w)
        .startsWith("warning: 12,000 MB free for " + dir.toAbsolutePath()).contains("about 10,000 MB"));
  }

  @Test
  void estimatesFromClientsAndLengthAndStretchesAFaultCountedRun() {
    // 4 clients for 1,000 s: 2 GB; the same planned length as a --faults run takes about 3 times as long.
    assertThat(DiskWatch.estimateBytes(new FaultSchedule.Length.Duration(1_000_000), 1_000_000, 4)).isEqualTo(2 * GB);
    assertThat(DiskWatch.estimateBytes(new FaultSchedule.Length.Faults(100), 1_000_000, 4)).isEqualTo(6 * GB);
  }

  @Test
  void asksTheFileStoreOfTheNearestExistingDirectory() throws Exception {
    Path notYet = dir.resolve("a/b/history.jsonl");
    long usable = Files.getFileStore(dir).getUsableSpace();
    // Free space moves while the test runs (other processes write); the same store answers within a margin.
    assertThat(DiskWatch.usableSpace(notYet)).isBetween(usable - GB, usable + GB);
  }

  @Test
  void refusesANegativeFloor() {
    assertThatThrownBy(() -> new DiskWatch(List.of(dir), -1, p -> 0L)).isInstanceOf(IllegalArgumentException.class);
  }
}
