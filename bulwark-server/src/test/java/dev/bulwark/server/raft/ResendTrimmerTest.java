package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** Which entries a leader sends again after a reset, so a follower that skips them claims only what it writes. */
class ResendTrimmerTest {
  private final AtomicLong now = new AtomicLong();
  private final ResendTrimmer trimmer = new ResendTrimmer(now::get);

  private static long[] range(long first, long last) {
    return LongStream.rangeClosed(first, last).toArray();
  }

  private static long[] term(long term, int count) {
    return LongStream.generate(() -> term).limit(count).toArray();
  }

  private long match = 0;

  private int send(long first, long last, long term) {
    return trimmer.entriesToSend(range(first, last), term(term, (int) (last - first + 1)), match);
  }

  @Test
  void pipelinedAppendsGoWhole() {
    assertThat(send(100, 110, 7)).isEqualTo(11);
    assertThat(send(111, 130, 7)).isEqualTo(20);
    assertThat(send(131, 131, 7)).isEqualTo(1);
  }

  @Test
  void aResendFromTheSameIndexEndsWhereTheEarlierAppendEnded() {
    send(100, 110, 7);
    send(111, 120, 7);
    // Reset to 100; the log has grown to 160 since.
    assertThat(send(100, 160, 7)).as("cut to 100..110").isEqualTo(11);
    assertThat(send(111, 160, 7)).as("cut to 111..120").isEqualTo(10);
    assertThat(send(121, 160, 7)).as("new ground: whole").isEqualTo(40);
  }

  @Test
  void aResendThatStartsInsideAnEarlierAppendGoesWhole() {
    send(100, 110, 7);
    // The follower does not skip it (no run starts at 105 in flight): it writes it.
    assertThat(send(105, 160, 7)).isEqualTo(56);
  }

  @Test
  void everyRunStartCounts() {
    send(200, 210, 9); // a run of term 9 starting at 200
    // A resend whose second run (term 9) starts at 200: the follower would skip it whole.
    long[] indices = range(195, 230);
    long[] terms = new long[indices.length];
    for (int i = 0; i < terms.length; i++) {
      terms[i] = indices[i] < 200 ? 8 : 9;
    }
    assertThat(trimmer.entriesToSend(indices, terms, match)).as("cut to 195..210").isEqualTo(16);
  }

  @Test
  void anAcknowledgedAppendIsWrittenAndCutsNothing() {
    send(100, 100, 7);
    send(101, 101, 7);
    send(102, 102, 7);
    match = 101; // the follower wrote 100 and 101
    assertThat(send(100, 160, 7)).as("100 is written: whole").isEqualTo(61);
    assertThat(send(102, 160, 7)).as("102 may still be queued").isEqualTo(1);
  }

  @Test
  void aRememberedAppendIsForgottenAfterAWhile() {
    send(100, 110, 7);
    now.addAndGet(ResendTrimmer.REMEMBER_NANOS + 1);
    assertThat(send(100, 160, 7)).isEqualTo(61);
  }

  @Test
  void memoryIsBounded() {
    for (long i = 0; i < 3 * ResendTrimmer.REMEMBERED_MAX; i++) {
      send(1_000 + 10 * i, 1_000 + 10 * i + 9, 7);
    }
    assertThat(trimmer.remembered()).hasSize(ResendTrimmer.REMEMBERED_MAX);
    assertThat(trimmer.remembered().keySet().iterator().next()).as("the lowest went first")
        .isEqualTo(1_000 + 10L * 2 * ResendTrimmer.REMEMBERED_MAX);
  }
}
