package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.server.raft.SilentPeerRedials.Follower;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * When a replica dials a peer afresh, on rounds 100 ms apart as its watch thread takes them: a
 * leader redials a follower silent for the threshold, counted at the earliest from when it
 * first saw that follower's record, at most once per gap, and never one being sent a snapshot
 * or in a round that came late; a replica that does not lead redials nobody, and counts afresh
 * when it leads again.
 */
class SilentPeerRedialsTest {
  static final long SILENCE_MS = 300;
  static final long GAP_MS = 1_000;
  static final long TICK_MS = 100;
  final SilentPeerRedials redials = new SilentPeerRedials(SILENCE_MS, GAP_MS, TICK_MS);

  static Follower answering(String id, long sinceMs) {
    return new Follower(id, sinceMs, false);
  }

  @Test
  void aLeaderRedialsAFollowerSilentForTheThresholdAndNotOneThatAnswers() {
    // r2 last answered at 9,960; r3 keeps answering.
    assertThat(redials.leading(10_000, 7, List.of(answering("r2", 40), answering("r3", 40)))).isEmpty();
    assertThat(redials.leading(10_100, 7, List.of(answering("r2", 140), answering("r3", 20)))).isEmpty();
    assertThat(redials.leading(10_200, 7, List.of(answering("r2", 240), answering("r3", 20)))).isEmpty();
    assertThat(redials.leading(10_300, 7, List.of(answering("r2", 340), answering("r3", 30)))).containsExactly("r2");
    assertThat(redials.redials()).isOne();
  }

  @Test
  void aNewLeaderCountsSilenceFromWhenItFirstSawEachFollowerNotFromRatisBackdatedLastAnswer() {
    // Ratis dates a new leader's last answer from each follower back by the longest election timeout.
    for (long t = 0; t < SILENCE_MS; t += TICK_MS) {
      assertThat(redials.leading(20_000 + t, 8, List.of(answering("r2", 600 + t), answering("r3", 600 + t))))
          .as("at %d ms", t).isEmpty();
    }
    assertThat(redials.leading(20_000 + SILENCE_MS, 8, List.of(answering("r2", 900), answering("r3", 10))))
        .containsExactly("r2");
    // A new term starts the count again.
    assertThat(redials.leading(20_400, 9, List.of(answering("r2", 1_000), answering("r3", 1_000)))).isEmpty();
  }

  @Test
  void aFollowerRecordRebuiltWithinTheTermAndDatedBackStartsItsCountAgain() {
    for (long t = 0; t <= 1_000; t += TICK_MS) {
      assertThat(redials.leading(t, 5, List.of(answering("r2", 20)))).isEmpty();
    }
    // Ratis rebuilds r2's appender: its last answer jumps 600 ms into the past.
    for (long t = 1_100; t < 1_100 + SILENCE_MS; t += TICK_MS) {
      assertThat(redials.leading(t, 5, List.of(answering("r2", 600 + t - 1_100)))).as("at %d ms", t).isEmpty();
    }
    assertThat(redials.leading(1_100 + SILENCE_MS, 5, List.of(answering("r2", 900)))).containsExactly("r2");
  }

  @Test
  void aFollowerSilentForLongIsRedialedOncePerGap() {
    for (long t = 0; t <= 10_000; t += TICK_MS) {
      redials.leading(30_000 + t, 3, List.of(answering("r2", 5_000 + t)));
    }
    // Counted from the first round, r2 is silent from 300 ms on: redialed at 300, 1,300, ..., 9,300 ms.
    assertThat(redials.redials()).isEqualTo(10);
  }

  @Test
  void aFollowerBeingSentASnapshotIsNotRedialedAndGetsAWholeThresholdOnceTheSendIsOver() {
    long t = 0;
    for (; t <= 5_000; t += TICK_MS) {
      assertThat(redials.leading(t, 4, List.of(new Follower("r2", 2_000 + t, true)))).as("at %d ms", t).isEmpty();
    }
    long sendOver = t;
    for (; t < sendOver + SILENCE_MS - TICK_MS; t += TICK_MS) {
      assertThat(redials.leading(t, 4, List.of(answering("r2", 2_000 + t)))).as("at %d ms", t).isEmpty();
    }
    assertThat(redials.leading(t, 4, List.of(answering("r2", 2_000 + t)))).containsExactly("r2");
  }

  @Test
  void aRoundThatComesLateRedialsNothingAndTheNextOnTimeRoundDecides() {
    assertThat(redials.leading(0, 6, List.of(answering("r2", 10)))).isEmpty();
    assertThat(redials.leading(100, 6, List.of(answering("r2", 10)))).isEmpty();
    // This replica was paused for 900 ms: its followers' answers may be waiting unread.
    assertThat(redials.leading(1_000, 6, List.of(answering("r2", 910)))).isEmpty();
    assertThat(redials.leading(1_100, 6, List.of(answering("r2", 1_010)))).containsExactly("r2");
  }

  @Test
  void aFollowerSilentSinceBeforeThisReplicaLedAgainIsCountedFromTheNewTermOnly() {
    for (long t = 0; t <= 500; t += TICK_MS) {
      redials.leading(t, 3, List.of(answering("r2", 10)));
    }
    // Leadership passes to another replica and comes back in term 5; r2 last answered at 490.
    for (long t = 600; t < 2_000; t += TICK_MS) {
      redials.notLeading(t);
    }
    for (long t = 2_000; t < 2_000 + SILENCE_MS; t += TICK_MS) {
      assertThat(redials.leading(t, 5, List.of(answering("r2", t - 490)))).as("at %d ms", t).isEmpty();
    }
    assertThat(redials.leading(2_000 + SILENCE_MS, 5, List.of(answering("r2", 1_810)))).containsExactly("r2");
  }

  @Test
  void intervalsArePositive() {
    assertThatThrownBy(() -> new SilentPeerRedials(0, 1, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new SilentPeerRedials(1, 0, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new SilentPeerRedials(1, 1, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
