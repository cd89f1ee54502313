package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.server.raft.StalledFollowerWatch.Follower;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The stalled-follower rule on samples a second apart: only a follower that answers, stays put
 * for the whole window while the leader is ahead of it, and is within the leader's log is
 * reported; moving, silent, caught-up and snapshot-bound followers are not.
 */
class StalledFollowerWatchTest {
  static final long STALL_MS = 8_000;
  static final long ANSWERED_WITHIN_MS = 2_000;
  final StalledFollowerWatch watch = new StalledFollowerWatch(STALL_MS, ANSWERED_WITHIN_MS);

  @Test
  void aFollowerThatAnswersButStaysPutWhileTheLeaderCommitsIsReportedOnceTheWindowHasPassed() {
    for (long t = 0; t < STALL_MS; t += 1_000) {
      assertThat(watch.observe(t, 5_000 + t, 100, List.of(new Follower("r2", 4_200, 50), new Follower("r3", 4_999 + t, 10))))
          .as("at %d ms", t).isEmpty();
    }
    assertThat(watch.observe(STALL_MS, 5_000 + STALL_MS, 100,
        List.of(new Follower("r2", 4_200, 50), new Follower("r3", 4_999 + STALL_MS, 10)))).contains("r2");
  }

  @Test
  void aFollowerThatMovesEvenByOneEntryAtATimeIsNeverReported() {
    for (long t = 0; t <= 3 * STALL_MS; t += 1_000) {
      assertThat(watch.observe(t, 90_000 + t, 100, List.of(new Follower("r2", 1_000 + t / 1_000, 50)))).isEmpty();
    }
  }

  @Test
  void aFollowerThatDoesNotAnswerIsNotReportedAndGetsAWholeWindowOnceItAnswersAgain() {
    long t = 0;
    for (; t <= 2 * STALL_MS; t += 1_000) {
      assertThat(watch.observe(t, 9_000, 100, List.of(new Follower("r2", 4_200, ANSWERED_WITHIN_MS + 1 + t)))).isEmpty();
    }
    long lastSilent = t - 1_000;
    for (; t < lastSilent + STALL_MS; t += 1_000) {
      assertThat(watch.observe(t, 9_000, 100, List.of(new Follower("r2", 4_200, 40)))).as("at %d ms", t).isEmpty();
    }
    assertThat(watch.observe(t, 9_000, 100, List.of(new Follower("r2", 4_200, 40)))).contains("r2");
  }

  @Test
  void aFollowerBehindTheStartOfTheLeadersLogIsBeingSentASnapshotAndIsNotReported() {
    for (long t = 0; t <= 3 * STALL_MS; t += 1_000) {
      assertThat(watch.observe(t, 90_000, 50_000, List.of(new Follower("r2", 40_000, 30)))).isEmpty();
    }
    // ... but one whose commit index is within the log is.
    StalledFollowerWatch other = new StalledFollowerWatch(STALL_MS, ANSWERED_WITHIN_MS);
    other.observe(0, 90_000, 40_001, List.of(new Follower("r2", 40_000, 30)));
    assertThat(other.observe(STALL_MS, 90_000, 40_001, List.of(new Follower("r2", 40_000, 30)))).contains("r2");
  }

  @Test
  void aFollowerSentASnapshotForAPurgedPreviousEntryIsNotReportedWhileTheSendLasts() {
    // Its commit index is just below the log's start, so within the log: only the flag excuses it.
    for (long t = 0; t <= 3 * STALL_MS; t += 1_000) {
      assertThat(watch.observe(t, 90_000, 40_001, List.of(new Follower("r2", 40_000, 30, true)))).as("at %d ms", t).isEmpty();
    }
    // Once the send is over and it still does not move, it gets a whole window from its last excused look.
    long lastExcused = 3 * STALL_MS;
    assertThat(watch.observe(lastExcused + 1_000, 90_000, 40_001, List.of(new Follower("r2", 40_000, 30)))).isEmpty();
    assertThat(watch.observe(lastExcused + STALL_MS - 1_000, 90_000, 40_001, List.of(new Follower("r2", 40_000, 30))))
        .isEmpty();
    assertThat(watch.observe(lastExcused + STALL_MS, 90_000, 40_001, List.of(new Follower("r2", 40_000, 30))))
        .contains("r2");
  }

  @Test
  void aCaughtUpFollowerOfAnIdleLeaderIsNotReported() {
    for (long t = 0; t <= 3 * STALL_MS; t += 1_000) {
      assertThat(watch.observe(t, 7_000, 100, List.of(new Follower("r2", 7_000, 300)))).isEmpty();
    }
  }

  @Test
  void ofTwoStalledFollowersTheOneStalledLongerIsReportedAndResetForgetsBoth() {
    watch.observe(0, 9_000, 100, List.of(new Follower("r2", 5_000, 10), new Follower("r3", 6_000, 10)));
    watch.observe(3_000, 9_000, 100, List.of(new Follower("r2", 5_000, 10), new Follower("r3", 6_100, 10)));
    List<Follower> both = List.of(new Follower("r2", 5_000, 10), new Follower("r3", 6_100, 10));
    assertThat(watch.observe(3_000 + STALL_MS, 9_000, 100, both)).contains("r2");

    watch.reset();
    assertThat(watch.observe(4_000 + STALL_MS, 9_000, 100, both)).as("a reset starts every window again").isEmpty();
    assertThat(watch.observe(4_000 + 2 * STALL_MS, 9_000, 100, both)).isPresent();
  }

  @Test
  void aFollowerThatLeftTheConfigurationIsForgotten() {
    watch.observe(0, 9_000, 100, List.of(new Follower("r2", 5_000, 10)));
    watch.observe(1_000, 9_000, 100, List.of());
    assertThat(watch.observe(STALL_MS, 9_000, 100, List.of(new Follower("r2", 5_000, 10))))
        .as("r2 came back: its window starts at its return").isEqualTo(Optional.empty());
  }

  @Test
  void theSuccessorIsTheFollowerFurthestAheadAmongThoseThatAnswerOtherThanTheStalledOne() {
    List<Follower> followers = List.of(new Follower("r2", 4_200, 10), new Follower("r3", 8_000, 10),
        new Follower("r4", 9_000, ANSWERED_WITHIN_MS + 1), new Follower("r5", 7_000, ANSWERED_WITHIN_MS));
    assertThat(watch.successorFor("r2", followers)).contains("r3");
    assertThat(watch.successorFor("r3", followers)).contains("r5");
    assertThat(watch.successorFor("r2", List.of(new Follower("r2", 4_200, 10), new Follower("r3", 8_000, 60_000))))
        .as("the only other follower does not answer").isEmpty();
  }

  @Test
  void theWindowsArePositive() {
    assertThatThrownBy(() -> new StalledFollowerWatch(0, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new StalledFollowerWatch(1, -1)).isInstanceOf(IllegalArgumentException.class);
  }
}
