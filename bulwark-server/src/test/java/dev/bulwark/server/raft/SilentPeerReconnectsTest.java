package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * When a replica dials a peer afresh, on samples 100 ms apart as its watch thread takes them: a
 * leader redials a follower silent for the threshold (counted from the start of its term at
 * the latest), at most once per interval; a leaderless replica redials every peer once it has
 * been leaderless long enough; a follower that knows its leader redials nothing.
 */
class SilentPeerReconnectsTest {
  static final long SILENCE_MS = 300;
  static final long LEADERLESS_MS = 1_000;
  static final long EVERY_MS = 1_000;
  final SilentPeerReconnects redials = new SilentPeerReconnects(SILENCE_MS, LEADERLESS_MS, EVERY_MS);

  @Test
  void aLeaderRedialsAFollowerSilentForTheThresholdAndNotOneThatAnswers() {
    assertThat(redials.leading(10_000, 7, Map.of("r2", 40L, "r3", 40L))).isEmpty();
    assertThat(redials.leading(10_200, 7, Map.of("r2", 240L, "r3", 20L))).isEmpty();
    assertThat(redials.leading(10_300, 7, Map.of("r2", 340L, "r3", 30L))).containsExactly("r2");
  }

  @Test
  void aNewLeaderCountsSilenceFromTheStartOfItsTermNotFromRatisBackdatedLastAnswer() {
    // Ratis dates a new leader's last answer from each follower back by the longest election timeout.
    for (long t = 0; t < SILENCE_MS; t += 100) {
      assertThat(redials.leading(20_000 + t, 8, Map.of("r2", 600 + t, "r3", 600 + t))).as("at %d ms", t).isEmpty();
    }
    assertThat(redials.leading(20_000 + SILENCE_MS, 8, Map.of("r2", 900L, "r3", 10L))).containsExactly("r2");
    // A new term starts the count again.
    assertThat(redials.leading(20_400, 9, Map.of("r2", 1_000L, "r3", 1_000L))).isEmpty();
  }

  @Test
  void aFollowerSilentForLongIsRedialedOncePerInterval() {
    int redialed = 0;
    for (long t = 0; t <= 10_000; t += 100) {
      redialed += redials.leading(30_000 + t, 3, Map.of("r2", 5_000 + t)).size();
    }
    // Counted from the start of the term, r2 is silent from 300 ms on: redialed at 300, 1,300, ..., 9,300 ms.
    assertThat(redialed).isEqualTo(10);
  }

  @Test
  void aLeaderlessReplicaRedialsEveryPeerOnceLeaderlessLongEnoughThenOncePerInterval() {
    List<String> peers = List.of("r1", "r3");
    for (long t = 0; t < LEADERLESS_MS; t += 100) {
      assertThat(redials.leaderless(t, peers)).as("at %d ms", t).isEmpty();
    }
    assertThat(redials.leaderless(LEADERLESS_MS, peers)).containsExactlyInAnyOrder("r1", "r3");
    assertThat(redials.leaderless(LEADERLESS_MS + 500, peers)).isEmpty();
    assertThat(redials.leaderless(LEADERLESS_MS + EVERY_MS, peers)).containsExactlyInAnyOrder("r1", "r3");
  }

  @Test
  void followingALeaderRestartsTheLeaderlessClock() {
    redials.leaderless(0, List.of("r1"));
    redials.following();
    assertThat(redials.leaderless(LEADERLESS_MS + 100, List.of("r1"))).isEmpty();
    assertThat(redials.leaderless(2 * LEADERLESS_MS + 100, List.of("r1"))).containsExactly("r1");
  }

  @Test
  void intervalsArePositive() {
    assertThatThrownBy(() -> new SilentPeerReconnects(0, 1, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new SilentPeerReconnects(1, 0, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new SilentPeerReconnects(1, 1, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
