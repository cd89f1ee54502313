package dev.bulwark.server.raft;

import java.util.function.Consumer;

/**
 * A leader's defence, for one follower, against Ratis 3.2.0 believing the follower holds entries
 * it does not hold.
 *
 * <p>Why: a follower that gets a second append with the same first index as one it is still
 * writing skips it but answers SUCCESS up to the second one's last entry (RATIS-2235), so the
 * leader's match index passes the end of the follower's log. Every append the leader then sends
 * starts after its match index; the follower answers INCONSISTENCY with its real next index,
 * and Ratis does go back there for the answer to the request it tracks, but each other answer of
 * the same burst (its request already cleared) and each heartbeat answer puts the next index back
 * to match index + 1, since Ratis never goes below that for an answer it cannot place. Under load
 * the follower never catches up with that leader (docs/chaos.md, "A follower its leader stopped
 * bringing forward": about one restart in four or five in chaos runs, until the stalled-follower
 * watch hands leadership away after 8 s).
 *
 * <p>Bulwark's followers no longer drop appends that way ({@link AppendGate}), so this is a
 * backstop: for a follower that still does (one that runs an earlier build, during a rolling
 * upgrade), and a warning in the log if it ever finds a proof with them.
 *
 * <p>The proof that the match index is false: a follower refuses a tracked append that starts at
 * or below match index + 1, so it lacks an entry the leader counts as matched (a matched entry
 * was written before it was acknowledged). From then on, as long as the match index has not
 * moved, an INCONSISTENCY answer sends the leader to the follower's own next index, where Ratis
 * would have put it back to match index + 1. Sending below the match index is safe: the follower
 * skips what it has and refuses anything at or below its commit index. A real acknowledgement
 * moves the match index and ends the proof. Without a proof, Ratis' answer stands.
 */
final class FalseMatchGuard {
  /** Ratis' index for "no request" (RaftLog.INVALID_LOG_INDEX). */
  static final long NO_REQUEST = -1;

  private long matchAtProof = -1;

  /**
   * The next index to send from after an INCONSISTENCY answer.
   *
   * @param requestFirst the refused request's first index, or {@link #NO_REQUEST} when Ratis could not place the answer
   * @param replyNext the follower's next index, from its answer
   * @param match the leader's match index for the follower, now
   * @param followerCommit the follower's commit index, as its answers report it
   * @param logStart the first index in the leader's log (below it, the follower needs a snapshot)
   * @param ratisNext what Ratis would send from
   * @param onProof told, once per proof, what was found
   */
  synchronized long nextIndex(long requestFirst, long replyNext, long match, long followerCommit, long logStart,
      long ratisNext, Consumer<String> onProof) {
    if (match != matchAtProof) {
      matchAtProof = -1; // the match index moved since: a real acknowledgement, or never proven
    }
    // Only an index the leader can send from without a snapshot, above what the follower has committed.
    // Sending from logStart would need entry logStart - 1, purged (unless it is the snapshot's),
    // and the append would fail Ratis' check: above it only.
    boolean usable = replyNext > followerCommit && replyNext > logStart;
    if (!usable) {
      return ratisNext;
    }
    if (requestFirst != NO_REQUEST && requestFirst <= match + 1 && replyNext < requestFirst && matchAtProof != match) {
      matchAtProof = match;
      onProof.accept("the follower refused an append from " + requestFirst + " for lack of entry " + (requestFirst - 1)
          + ", below this leader's match index " + match + " for it (Ratis 3.2.0 took an append it skipped as written); "
          + "sending from the follower's own next index " + replyNext + " until the match index moves");
    }
    if (matchAtProof == match) {
      return replyNext;
    }
    return ratisNext;
  }
}
