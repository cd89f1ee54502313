package dev.bulwark.store.state;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs {@link StateStore#collectGarbage()} on its own thread, so the sequencer never waits for
 * deletions: it wakes when {@link #nudge()}d (after a commit) or every {@code idle} at the
 * latest, collects what has become collectable, and sleeps again. A failure stops the
 * collector, is logged and is kept for {@link #failure()}: a corrupt journal is not something
 * to retry.
 */
public final class StateCollector implements AutoCloseable {
  /**
   * Versions one round collects at most, so that {@link #close()} waits for little even when a
   * store's whole history is still to be collected.
   */
  static final int ROUND_VERSIONS_MAX = 64;

  private final StateStore state;
  private final Duration idle;
  private final Thread thread;
  private final AtomicLong nodesDeleted = new AtomicLong();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private volatile boolean stopping;

  private StateCollector(StateStore state, Duration idle) {
    this.state = state;
    this.idle = idle;
    this.thread = Thread.ofPlatform().daemon().name("bulwark-state-collector").unstarted(this::run);
  }

  /** Starts collecting for {@code state}, waking at least every {@code idle}. */
  public static StateCollector start(StateStore state, Duration idle) {
    if (idle.isNegative() || idle.isZero()) {
      throw new IllegalArgumentException("the collector's idle interval must be positive: " + idle);
    }
    StateCollector collector = new StateCollector(state, idle);
    collector.thread.start();
    return collector;
  }

  private void run() {
    try {
      while (!stopping) {
        StateStore.Collected round = state.collectGarbage(ROUND_VERSIONS_MAX);
        nodesDeleted.addAndGet(round.nodesDeleted());
        if (round.versions() == 0) {
          LockSupport.parkNanos(this, idle.toNanos());
        }
      }
    } catch (RuntimeException | Error e) {
      failure.set(e);
      System.getLogger(StateCollector.class.getName()).log(System.Logger.Level.ERROR,
          "the state collector stopped: unreachable state nodes are no longer deleted", e);
    }
  }

  /** Wakes the collector now, for example after a commit released a root. */
  public void nudge() {
    LockSupport.unpark(thread);
  }

  public long nodesDeleted() {
    return nodesDeleted.get();
  }

  /** Why the collector stopped, if it failed. */
  public Throwable failure() {
    return failure.get();
  }

  /** Stops the thread and waits for the round in progress to end. */
  @Override
  public void close() {
    stopping = true;
    LockSupport.unpark(thread);
    try {
      thread.join(Duration.ofSeconds(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      throw new IllegalStateException("the state collector did not stop within 30 s");
    }
  }
}
