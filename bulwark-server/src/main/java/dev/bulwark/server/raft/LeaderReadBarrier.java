package dev.bulwark.server.raft;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The leader's read barrier: a read waits for the commit of an empty log entry (a marker)
 * appended after the read arrived. Committing it proves that a majority still took this
 * leader's term after the read began, so no later leader can have confirmed a write the read
 * would miss; and Ratis replies to a write only once it is applied here, so the state the
 * read then sees includes every write committed before.
 *
 * <p>Why not Ratis' ReadIndex on the leader: in Ratis 3.2.0 (and 3.3.0) a leader answers a
 * ReadIndex at a commit index it has already had acknowledged without a new heartbeat round
 * ({@code ReadIndexHeartbeats.addAppendEntriesListener}). A leader cut off from its majority
 * commits nothing, so every read there is at such an index: until it notices and steps down
 * (an election timeout and more), it would answer reads from a state a new leader may already
 * have moved past.
 *
 * <p>Reads share markers: at most one is in flight, and every read that arrives meanwhile
 * waits for the next one, which is submitted when the one in flight completes. A marker costs
 * a log entry and a majority's fsync, so a burst of reads costs two.
 */
final class LeaderReadBarrier {
  private final Supplier<CompletableFuture<Void>> submitMarker;
  private CompletableFuture<Void> next;
  private boolean inFlight;

  /** {@code submitMarker} appends one marker and completes when it is committed and applied here. */
  LeaderReadBarrier(Supplier<CompletableFuture<Void>> submitMarker) {
    this.submitMarker = submitMarker;
  }

  /** Completes once a marker appended after this call is committed and applied; fails as the marker does. */
  CompletableFuture<Void> await() {
    CompletableFuture<Void> mine;
    boolean submit;
    synchronized (this) {
      if (next == null) {
        next = new CompletableFuture<>();
      }
      mine = next;
      submit = !inFlight;
      if (submit) {
        next = null;
        inFlight = true;
      }
    }
    if (submit) {
      submit(mine);
    }
    return mine;
  }

  private void submit(CompletableFuture<Void> readers) {
    CompletableFuture<Void> marker;
    try {
      marker = submitMarker.get();
    } catch (RuntimeException e) {
      marker = CompletableFuture.failedFuture(e);
    }
    marker.whenComplete((ok, failure) -> {
      if (failure != null) {
        readers.completeExceptionally(failure);
      } else {
        readers.complete(null);
      }
      CompletableFuture<Void> waiting;
      synchronized (this) {
        waiting = next;
        next = null;
        inFlight = waiting != null;
      }
      if (waiting != null) {
        submit(waiting);
      }
    });
  }
}
