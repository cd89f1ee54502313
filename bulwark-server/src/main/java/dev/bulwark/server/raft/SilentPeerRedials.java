package dev.bulwark.server.raft;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides when a leader drops its connection to a follower that has not answered for
 * {@code silenceMs} and dials it afresh ({@link PeerRedial}), each follower at most once every
 * {@code redialGapMs}.
 *
 * <p>Why: Ratis keeps one connection per peer (two with its separate heartbeat channel, on by
 * default) for as long as the process lives, and its log appender waits without a bound for a
 * connection that will take no more bytes. A link that was cut several times in a row (chaos:
 * three partitions between the same two replicas within 14 s) leaves such a connection in TCP's
 * retransmission back-off: the cut is healed, but the kernel sends nothing on it until its next
 * retry, seconds later. In the 1,000-fault run of 2026-11-28 a new leader won three elections
 * in a row with a follower's vote (votes went over the other connection) and reached that
 * follower with none of its appends for 6 s; the leader kill it followed took 6.2 s to fail
 * over. A new connection has no back-off: on a healed link it is up within a round trip, and on
 * a cut one it costs a connection attempt per {@code redialGapMs}.
 *
 * <p>What does not count as silence: a follower being sent a snapshot (Ratis sends it no
 * heartbeats meanwhile, and a chunk's answer may take seconds under load; a redial would start
 * the send over); the time before this leader first saw a follower in its term (Ratis dates a
 * new follower record's last answer back by the longest election timeout, at the start of a
 * term and whenever it rebuilds an appender); and a round observed late (more than two ticks
 * after the one before: this replica itself was paused or starved, and its followers' answers
 * may be waiting unread, which a redial would throw away).
 *
 * <p>Only a leader redials. A replica without a leader redialing its peers (tried first) cut
 * short the vote requests it and its peers had in flight over the old connections, and Ratis'
 * map hands out a closed client while it swaps them: in a chaos run two replicas that could
 * elect each other failed pre-vote after pre-vote for 4 s ("Channel shutdownNow invoked",
 * "already CLOSED").
 *
 * <p>Pure logic: time (monotonic, in ms) and what the replica knows of its peers come from the
 * caller, which calls once per tick.
 */
final class SilentPeerRedials {
  /** What a leader knows of one follower: how long since it last answered, and whether it is being sent a snapshot. */
  record Follower(String id, long sinceLastAnswerMs, boolean gettingSnapshot) {}

  private static final long NONE = Long.MIN_VALUE;

  private final long silenceMs;
  private final long redialGapMs;
  private final long tickMs;
  private final Map<String, Long> lastRedialMs = new HashMap<>();
  /** Per follower in the current term: when this leader's count of its silence starts, and its last answer as last seen. */
  private final Map<String, Long> countFromMs = new HashMap<>();
  private final Map<String, Long> lastAnswerAtMs = new HashMap<>();
  private long lastRoundMs = NONE;
  private long ledTerm = NONE;
  private long redials;

  /**
   * @param silenceMs how long a follower may leave its leader unanswered before the leader dials it afresh
   * @param redialGapMs the least time between two redials of the same peer
   * @param tickMs how often the caller calls
   */
  SilentPeerRedials(long silenceMs, long redialGapMs, long tickMs) {
    if (silenceMs <= 0 || redialGapMs <= 0 || tickMs <= 0) {
      throw new IllegalArgumentException("silence, redial gap and tick are positive: " + silenceMs + ", " + redialGapMs
          + ", " + tickMs);
    }
    this.silenceMs = silenceMs;
    this.redialGapMs = redialGapMs;
    this.tickMs = tickMs;
  }

  /**
   * While leading in {@code term}, at {@code nowMs}: the followers to dial afresh. Followers
   * absent from {@code followers} are forgotten.
   */
  List<String> leading(long nowMs, long term, List<Follower> followers) {
    boolean late = lateRound(nowMs);
    if (term != ledTerm) {
      ledTerm = term;
      countFromMs.clear();
      lastAnswerAtMs.clear();
    }
    Set<String> present = new HashSet<>();
    List<String> due = new ArrayList<>();
    for (Follower f : followers) {
      present.add(f.id());
      long answeredAt = nowMs - f.sinceLastAnswerMs();
      Long seen = lastAnswerAtMs.put(f.id(), answeredAt);
      if (seen == null || answeredAt < seen - tickMs) {
        countFromMs.put(f.id(), nowMs); // first seen in this term, or a new record dated back
      }
      long silentMs = nowMs - Math.max(answeredAt, countFromMs.get(f.id()));
      if (f.gettingSnapshot()) {
        countFromMs.put(f.id(), nowMs); // the count starts again once the send is over
      } else if (!late && silentMs >= silenceMs && mayRedial(f.id(), nowMs)) {
        due.add(f.id());
      }
    }
    countFromMs.keySet().retainAll(present);
    lastAnswerAtMs.keySet().retainAll(present);
    lastRedialMs.keySet().retainAll(present);
    return due;
  }

  /** While this replica does not lead: nothing to dial, and the next term it leads starts every count afresh. */
  void notLeading(long nowMs) {
    lateRound(nowMs);
    ledTerm = NONE;
  }

  /** How many redials these rounds have asked for. */
  long redials() {
    return redials;
  }

  private boolean lateRound(long nowMs) {
    boolean late = lastRoundMs != NONE && nowMs - lastRoundMs > 2 * tickMs;
    lastRoundMs = nowMs;
    return late;
  }

  private boolean mayRedial(String peer, long nowMs) {
    Long last = lastRedialMs.get(peer);
    if (last != null && nowMs - last < redialGapMs) {
      return false;
    }
    lastRedialMs.put(peer, nowMs);
    redials++;
    return true;
  }
}
