package dev.bulwark.server.raft;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * Keeps a leader's resend to one follower from ending past an earlier append that starts a run
 * of entries (same term, consecutive indices) at the same index, so that a follower that skips
 * the resend acknowledges only what it writes.
 *
 * <p>Why: a Ratis 3.2.0 follower that gets an append while one starting a run at the same index
 * is still being written skips the new one whole, yet answers SUCCESS up to the new one's last
 * entry (RATIS-2235). The leader's match index then passes the follower's log, and it counts
 * towards the commit: with the third replica out, the leader could confirm entries only it
 * holds (docs/chaos.md, "A follower its leader stopped bringing forward"). Such resends follow a
 * reset to an earlier index, when the log has grown since the first send. Cut to end where the
 * earlier append ended, a skipped resend claims only entries the earlier one writes; the rest
 * goes in the next append. Appends that do not repeat a start, the normal case, are untouched.
 *
 * <p>Only appends that may still be queued at the follower count: one the follower has
 * acknowledged (the match index reached its last entry) is written, and one older than
 * {@link #REMEMBER_NANOS} was refused or lost (a follower writes one in milliseconds to a
 * second). So a reset cuts a few resends, not a whole catch-up into the sizes of old appends.
 * What it cannot see: an append from another leader or from an earlier appender of this leader
 * still queued at the follower, and one queued for longer than that.
 */
final class ResendTrimmer {
  /** How long an unacknowledged append's run starts are remembered: longer than a follower takes to write one. */
  static final long REMEMBER_NANOS = 5_000_000_000L;
  /** At most this many run starts are remembered; the lowest go first. */
  static final int REMEMBERED_MAX = 1024;

  private record Sent(long lastIndex, long atNanos) {}

  private final TreeMap<Long, Sent> sent = new TreeMap<>();
  private final LongSupplier nanoTime;

  ResendTrimmer(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  /**
   * How many of an append's entries to send: all of them, or those up to the lowest last index
   * of a remembered append that started a run at one of this append's run starts. What is sent
   * is remembered.
   *
   * @param indices the append's entry indices, consecutive
   * @param terms the append's entry terms, same length
   * @param matchIndex the leader's match index for the follower: appends up to it are written
   */
  synchronized int entriesToSend(long[] indices, long[] terms, long matchIndex) {
    if (indices.length == 0) {
      return 0;
    }
    long now = nanoTime.getAsLong();
    sent.values().removeIf(s -> now - s.atNanos() > REMEMBER_NANOS || s.lastIndex() <= matchIndex);
    long first = indices[0];
    long last = indices[indices.length - 1];
    long cap = last;
    for (int i = 0; i < indices.length; i++) {
      if (i == 0 || terms[i] != terms[i - 1]) {
        Sent earlier = sent.get(indices[i]);
        if (earlier != null) {
          cap = Math.min(cap, earlier.lastIndex());
        }
      }
    }
    int count = (int) (Math.max(cap, first) - first + 1);
    long sentLast = indices[count - 1];
    for (int i = 0; i < count; i++) {
      if (i == 0 || terms[i] != terms[i - 1]) {
        sent.merge(indices[i], new Sent(sentLast, now),
            (old, fresh) -> old.lastIndex() <= fresh.lastIndex() ? new Sent(old.lastIndex(), now) : fresh);
      }
    }
    while (sent.size() > REMEMBERED_MAX) {
      sent.pollFirstEntry();
    }
    return count;
  }

  /** For tests: the remembered run starts and the last index each may be resent up to. */
  synchronized Map<Long, Long> remembered() {
    Map<Long, Long> out = new TreeMap<>();
    sent.forEach((start, s) -> out.put(start, s.lastIndex()));
    return out;
  }
}
