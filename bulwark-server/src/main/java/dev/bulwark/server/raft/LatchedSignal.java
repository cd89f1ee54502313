package dev.bulwark.server.raft;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.ratis.util.AwaitForSignal;

/**
 * A wake-up signal that is not lost when it comes before its waiter waits: it stays set until
 * the next wait takes it. Bulwark puts it in the place of Ratis' own {@link AwaitForSignal} in
 * the two loops on a write's path ({@link RatisSignals}).
 *
 * <p>Why: Ratis 3.2.0's {@code AwaitForSignal.signal()} sets a flag and swaps in a fresh one,
 * and {@code await(time)} looks at the fresh one, so a signal given between a loop's check and
 * its wait is dropped, and the loop sleeps out its whole time-out. The loop that applies
 * committed entries checks "anything committed to apply?", then waits up to 100 ms; the leader
 * answers a batch only once it has applied it, and the sequencer sends the next batch only once
 * the one before is answered, so a dropped signal there stops the pipeline for up to 100 ms.
 * A log appender checks "anything to send?", then waits up to half the shortest election
 * timeout. On two busy cores a thread is often preempted in just that gap.
 *
 * <p>A spurious wake-up is harmless to both loops: each checks its condition again.
 */
final class LatchedSignal extends AwaitForSignal {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition signalled = lock.newCondition();
  /** A signal no wait has taken yet. Guarded by {@link #lock}. */
  private boolean pending;

  LatchedSignal(Object name) {
    super(name);
  }

  /** Waits until signalled (at once if a signal is pending), and takes the signal. */
  @Override
  public void await() throws InterruptedException {
    lock.lock();
    try {
      while (!pending) {
        signalled.await();
      }
      pending = false;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits up to {@code time} for a signal (none at all for a time of 0 or less, as Ratis' own);
   * true, and the signal taken, if one was pending or came.
   */
  @Override
  public boolean await(long time, TimeUnit unit) throws InterruptedException {
    if (time <= 0) {
      return false;
    }
    lock.lock();
    try {
      long nanos = unit.toNanos(time);
      while (!pending && nanos > 0) {
        nanos = signalled.awaitNanos(nanos);
      }
      boolean taken = pending;
      pending = false;
      return taken;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void signal() {
    lock.lock();
    try {
      pending = true;
      signalled.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
