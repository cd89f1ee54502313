package dev.bulwark.server.raft;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides when a replica drops its connection to a peer that has gone silent and dials it
 * afresh: a leader, a follower that has not answered for {@code silenceMs}; a replica without a
 * leader, every peer once it has been leaderless for {@code leaderlessMs}. Each peer at most once
 * every {@code everyMs}.
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
 * a cut one it costs a connection attempt per {@code everyMs}. A follower that is merely slow
 * gets its pending appends again on the new connection, which it already handles (a resend after
 * a reset stream, {@link AppendGate}).
 *
 * <p>Pure logic: time and what the replica knows of its peers come from the caller.
 */
final class SilentPeerReconnects {
  private final long silenceMs;
  private final long leaderlessMs;
  private final long everyMs;
  private static final long NONE = Long.MIN_VALUE;

  private final Map<String, Long> lastReconnectMs = new HashMap<>();
  private long ledTerm = NONE;
  private long leadingSinceMs;
  private long leaderlessSinceMs = NONE;

  /**
   * @param silenceMs how long a follower may leave its leader unanswered before the leader dials it afresh
   * @param leaderlessMs how long a replica may know no leader before it dials every peer afresh
   * @param everyMs the least time between two reconnects to the same peer
   */
  SilentPeerReconnects(long silenceMs, long leaderlessMs, long everyMs) {
    if (silenceMs <= 0 || leaderlessMs <= 0 || everyMs <= 0) {
      throw new IllegalArgumentException("silence, leaderless and reconnect intervals are positive: " + silenceMs
          + ", " + leaderlessMs + ", " + everyMs);
    }
    this.silenceMs = silenceMs;
    this.leaderlessMs = leaderlessMs;
    this.everyMs = everyMs;
  }

  /**
   * While leading in {@code term}, at {@code nowMs}: the followers to dial afresh, given how long
   * since each last answered. A follower counts as silent only for as long as this replica has
   * led, as far as these calls have seen: Ratis dates a new leader's last answer from each
   * follower back by the longest election timeout, to have it sent something at once. Followers
   * absent from {@code sinceLastAnswerMs} are forgotten.
   */
  List<String> leading(long nowMs, long term, Map<String, Long> sinceLastAnswerMs) {
    leaderlessSinceMs = NONE;
    if (term != ledTerm) {
      ledTerm = term;
      leadingSinceMs = nowMs;
    }
    long leadingForMs = nowMs - leadingSinceMs;
    lastReconnectMs.keySet().retainAll(sinceLastAnswerMs.keySet());
    List<String> due = new ArrayList<>();
    sinceLastAnswerMs.forEach((peer, sinceAnswerMs) -> {
      if (Math.min(sinceAnswerMs, leadingForMs) >= silenceMs && mayReconnect(peer, nowMs)) {
        due.add(peer);
      }
    });
    return due;
  }

  /**
   * While this replica knows no leader, at {@code nowMs}: the peers to dial afresh, once it has
   * known none for {@code leaderlessMs} (as far as these calls have seen). Peers absent from
   * {@code peers} are forgotten.
   */
  List<String> leaderless(long nowMs, List<String> peers) {
    ledTerm = NONE;
    if (leaderlessSinceMs == NONE) {
      leaderlessSinceMs = nowMs;
    }
    lastReconnectMs.keySet().retainAll(peers);
    List<String> due = new ArrayList<>();
    if (nowMs - leaderlessSinceMs >= leaderlessMs) {
      for (String peer : peers) {
        if (mayReconnect(peer, nowMs)) {
          due.add(peer);
        }
      }
    }
    return due;
  }

  /** While this replica follows a leader it knows: nothing to dial, and both clocks start again. */
  void following() {
    ledTerm = NONE;
    leaderlessSinceMs = NONE;
  }

  private boolean mayReconnect(String peer, long nowMs) {
    Long last = lastReconnectMs.get(peer);
    if (last != null && nowMs - last < everyMs) {
      return false;
    }
    lastReconnectMs.put(peer, nowMs);
    return true;
  }
}
