package dev.bulwark.server.raft;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Notices, on a leader, a follower that the leader has stopped bringing forward, so that
 * leadership can move: a new leader starts its view of every follower afresh.
 *
 * <p>Why: Ratis 3.2.0 can acknowledge an append a follower did not write. The follower tracks the
 * appends it is still writing by their first index; a second request with the same first index
 * (a resend after the leader reset its stream, which a restarted or paused follower causes) is
 * answered with the first one's outcome although it may carry more entries
 * ({@code RaftServerImpl.appendLog}). The leader then holds a match index past the follower's
 * log, keeps sending from there, and the follower keeps refusing, as inconsistent, for as long
 * as that leader leads (RATIS-2605 describes the same trap reached by another path). The chaos
 * run of 2026-11-27 ended on it: a follower answered its leader for three minutes, through two
 * restarts of its own, without moving, until leadership changed.
 *
 * <p>The sign, from the leader: a follower that keeps answering, whose commit index (as its
 * answers report it) stays put for {@code stall} while the leader's is ahead of it, and that needs
 * no snapshot (its commit index is within the leader's log). A follower catching up moves; a
 * follower that is down, paused or cut off does not answer; one being sent a snapshot is behind
 * the start of the leader's log, or its next entry is the log's first and the one before it is
 * purged ({@link SnapshotBoundFollowers}). Pure logic: time and samples come from the caller.
 */
final class StalledFollowerWatch {
  /**
   * What the leader knows of one follower: its commit index, how long since it last answered,
   * and whether it is being sent a snapshot although its commit index is within the leader's log
   * ({@link SnapshotBoundFollowers}).
   */
  record Follower(String id, long commitIndex, long sinceLastAnswerMs, boolean gettingSnapshot) {
    Follower(String id, long commitIndex, long sinceLastAnswerMs) {
      this(id, commitIndex, sinceLastAnswerMs, false);
    }
  }

  private record Progress(long commitIndex, long sinceMs) {}

  private final long stallMs;
  private final long answeredWithinMs;
  private final Map<String, Progress> progress = new HashMap<>();

  /**
   * @param stallMs how long a follower that answers may stay put before it counts as stalled
   * @param answeredWithinMs a follower that answered within this counts as answering
   */
  StalledFollowerWatch(long stallMs, long answeredWithinMs) {
    if (stallMs <= 0 || answeredWithinMs <= 0) {
      throw new IllegalArgumentException("a stall and an answer window are positive: " + stallMs + ", " + answeredWithinMs);
    }
    this.stallMs = stallMs;
    this.answeredWithinMs = answeredWithinMs;
  }

  /**
   * One look, while leading, at {@code nowMs}: the follower that has been stalled for the whole
   * window, if any (the one stalled longest). Followers absent from {@code followers} are
   * forgotten.
   */
  Optional<String> observe(long nowMs, long leaderCommitIndex, long logStartIndex, List<Follower> followers) {
    Set<String> present = new HashSet<>();
    String stalled = null;
    long stalledSince = Long.MAX_VALUE;
    for (Follower f : followers) {
      present.add(f.id());
      Progress seen = progress.get(f.id());
      boolean moved = seen == null || seen.commitIndex() != f.commitIndex();
      boolean excused = f.sinceLastAnswerMs() > answeredWithinMs
          || f.commitIndex() >= leaderCommitIndex
          || f.commitIndex() + 1 < logStartIndex
          || f.gettingSnapshot();
      if (moved || excused) {
        progress.put(f.id(), new Progress(f.commitIndex(), nowMs));
      } else if (nowMs - seen.sinceMs() >= stallMs && seen.sinceMs() < stalledSince) {
        stalled = f.id();
        stalledSince = seen.sinceMs();
      }
    }
    progress.keySet().retainAll(present);
    return Optional.ofNullable(stalled);
  }

  /**
   * Who should lead instead, to free {@code stalled}: the follower furthest ahead among those
   * that answered within the window, other than {@code stalled}; empty when there is none.
   */
  Optional<String> successorFor(String stalled, List<Follower> followers) {
    return followers.stream()
        .filter(f -> !f.id().equals(stalled) && f.sinceLastAnswerMs() <= answeredWithinMs)
        .max(java.util.Comparator.comparingLong(Follower::commitIndex))
        .map(Follower::id);
  }

  /** Forgets every follower: after leadership changed hands, or after acting on a stall. */
  void reset() {
    progress.clear();
  }
}
