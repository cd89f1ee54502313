package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The leader's answer to INCONSISTENCY, replayed on the trap a chaos run logged: the follower's
 * log ends at 24448 (next 24449) while the leader's match index for it says 24477.
 */
class FalseMatchGuardTest {
  private static final long NONE = FalseMatchGuard.NO_REQUEST;
  private static final long MATCH = 24_477;
  private static final long FOLLOWER_NEXT = 24_449;
  private static final long COMMIT = 24_400;
  private static final long LOG_START = 20_000;

  private final FalseMatchGuard guard = new FalseMatchGuard();
  private final List<String> proofs = new ArrayList<>();

  private long next(long requestFirst, long replyNext, long match, long ratisNext) {
    return guard.nextIndex(requestFirst, replyNext, match, COMMIT, LOG_START, ratisNext, proofs::add);
  }

  @Test
  void onceProvenTheFollowersOwnNextIndexWinsOverEveryAnswerRatisCannotPlace() {
    // The tracked append from match + 1 is refused: Ratis itself goes back to 24449 here.
    assertThat(next(MATCH + 1, FOLLOWER_NEXT, MATCH, FOLLOWER_NEXT)).isEqualTo(FOLLOWER_NEXT);
    assertThat(proofs).hasSize(1);
    assertThat(proofs.getFirst()).contains("lack of entry 24477", "match index 24477", "next index 24449");
    // The rest of the burst and the heartbeats: Ratis would put it back to match + 1.
    assertThat(next(NONE, FOLLOWER_NEXT, MATCH, MATCH + 1)).isEqualTo(FOLLOWER_NEXT);
    assertThat(next(NONE, FOLLOWER_NEXT + 20, MATCH, MATCH + 1)).isEqualTo(FOLLOWER_NEXT + 20);
    // Proven again by the next refusal: still one word about it.
    assertThat(next(MATCH + 1, FOLLOWER_NEXT, MATCH, FOLLOWER_NEXT)).isEqualTo(FOLLOWER_NEXT);
    assertThat(proofs).hasSize(1);
  }

  @Test
  void aRealAcknowledgementEndsTheProof() {
    next(MATCH + 1, FOLLOWER_NEXT, MATCH, FOLLOWER_NEXT);
    long moved = MATCH + 500; // the follower wrote past the old match index and said so
    assertThat(next(NONE, moved - 10, moved, moved + 1)).isEqualTo(moved + 1);
    assertThat(next(NONE, FOLLOWER_NEXT, MATCH, MATCH + 1)).as("an older match index is not proven either")
        .isEqualTo(MATCH + 1);
  }

  @Test
  void withoutProofRatisDecides() {
    // A stale refusal of an append that started past match + 1 proves nothing.
    assertThat(next(MATCH + 30, FOLLOWER_NEXT, MATCH, MATCH + 1)).isEqualTo(MATCH + 1);
    assertThat(next(NONE, FOLLOWER_NEXT, MATCH, MATCH + 1)).isEqualTo(MATCH + 1);
    assertThat(proofs).isEmpty();
  }

  @Test
  void neverBelowWhatTheFollowerCommittedNorBelowTheLeadersLog() {
    // The follower's word would need entries it has committed, or a snapshot: Ratis decides.
    assertThat(next(MATCH + 1, COMMIT, MATCH, COMMIT)).isEqualTo(COMMIT);
    assertThat(guard.nextIndex(MATCH + 1, LOG_START - 5, MATCH, 0, LOG_START, MATCH + 1, proofs::add))
        .isEqualTo(MATCH + 1);
    // From the log's first index the entry before it is purged: still Ratis' choice.
    assertThat(guard.nextIndex(MATCH + 1, LOG_START, MATCH, 0, LOG_START, MATCH + 1, proofs::add))
        .isEqualTo(MATCH + 1);
    assertThat(proofs).isEmpty();
  }
}
