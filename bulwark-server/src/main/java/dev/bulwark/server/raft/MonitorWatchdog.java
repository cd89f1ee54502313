package dev.bulwark.server.raft;

import java.lang.management.ManagementFactory;
import java.lang.management.MonitorInfo;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * Watches one object's monitor for a thread that holds it while it waits. Ratis 3.2.0 can
 * deadlock when a leader steps down while one of its appenders is sending a snapshot
 * (RATIS-2345, docs/chaos.md): the thread stepping down holds the Raft server's monitor and
 * waits, with no time limit, for the appender, which waits for that monitor; the replica then
 * neither leads nor follows until it is restarted. Holding that monitor while parked or waiting
 * is what the deadlock looks like from outside, and no correct code path does it for long, so
 * when the same thread has done so for longer than the limit, the watchdog hands its stack to
 * {@code onStuck} (the {@code serve} command logs it and halts, for its supervisor to restart
 * the replica, which clears the deadlock). One check is a thread dump with locked monitors.
 *
 * <p>The deadlock's own stack (see {@link #isRatisStepDownJoin}) is a wait that takes
 * milliseconds when nothing is wrong, so it gets a shorter limit of its own: every second the
 * replica stays wedged is a second in which one more fault leaves the cluster without a majority.
 */
public final class MonitorWatchdog implements AutoCloseable {
  private final Object monitor;
  private final long limitNanos;
  private final long knownLimitNanos;
  private final java.util.function.Predicate<StackTraceElement[]> known;
  private final LongSupplier nanoTime;
  private final Consumer<String> onStuck;
  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private final Thread thread;

  private long stuckThreadId = -1;
  private long stuckSince;
  private boolean fired;

  /**
   * @param limit how long any thread may hold the monitor while waiting
   * @param known the stack of a known deadlock, which gets {@code knownLimit} instead (at most {@code limit})
   */
  MonitorWatchdog(Object monitor, Duration limit, java.util.function.Predicate<StackTraceElement[]> known,
      Duration knownLimit, Duration checkEvery, LongSupplier nanoTime, Consumer<String> onStuck) {
    this.monitor = Objects.requireNonNull(monitor);
    if (limit.isNegative() || limit.isZero() || knownLimit.isNegative() || knownLimit.isZero()
        || checkEvery.isNegative() || checkEvery.isZero()) {
      throw new IllegalArgumentException("a watchdog's limits and check interval are positive: " + limit + ", "
          + knownLimit + ", " + checkEvery);
    }
    this.limitNanos = limit.toNanos();
    this.knownLimitNanos = Math.min(limitNanos, knownLimit.toNanos());
    this.known = Objects.requireNonNull(known);
    this.nanoTime = nanoTime;
    this.onStuck = onStuck;
    long sleepMillis = Math.max(1, checkEvery.toMillis());
    this.thread = Thread.ofPlatform().name("bulwark-monitor-watchdog").daemon().unstarted(() -> {
      try {
        while (!Thread.currentThread().isInterrupted() && !check()) {
          Thread.sleep(sleepMillis);
        }
      } catch (InterruptedException stopped) {
        Thread.currentThread().interrupt();
      }
    });
  }

  /** Starts watching {@code monitor} on a daemon thread, a check every {@code checkEvery}. */
  public static MonitorWatchdog start(Object monitor, Duration limit, java.util.function.Predicate<StackTraceElement[]> known,
      Duration knownLimit, Duration checkEvery, Consumer<String> onStuck) {
    MonitorWatchdog w = new MonitorWatchdog(monitor, limit, known, knownLimit, checkEvery, System::nanoTime, onStuck);
    w.thread.start();
    return w;
  }

  /**
   * One look at the monitor's holder; true once {@code onStuck} was called (the watchdog then
   * stops looking). A holder that runs, or another thread holding it, starts the count again.
   */
  boolean check() {
    if (fired) {
      return true;
    }
    ThreadInfo holder = waitingHolder();
    long now = nanoTime.getAsLong();
    if (holder == null) {
      stuckThreadId = -1;
      return false;
    }
    if (holder.getThreadId() != stuckThreadId) {
      stuckThreadId = holder.getThreadId();
      stuckSince = now;
      return false;
    }
    boolean knownStack = known.test(holder.getStackTrace());
    if (now - stuckSince < (knownStack ? knownLimitNanos : limitNanos)) {
      return false;
    }
    fired = true;
    onStuck.accept("thread \"" + holder.getThreadName() + "\" has held the monitor of " + monitor.getClass().getName()
        + " while " + holder.getThreadState() + " for " + Duration.ofNanos(now - stuckSince).toMillis() + " ms"
        + (knownStack ? " in the known deadlock's stack" : "") + ":\n"
        + Arrays.stream(holder.getStackTrace()).map(f -> "\tat " + f).collect(Collectors.joining("\n")));
    return true;
  }

  /**
   * Whether a stack is RATIS-2345's: Ratis' leader state stepping down and joining its log
   * appenders ({@code LeaderStateImpl.stepDown} waiting in {@code CompletableFuture.join}).
   */
  public static boolean isRatisStepDownJoin(StackTraceElement[] stack) {
    boolean joining = false;
    for (StackTraceElement frame : stack) {
      String cls = frame.getClassName();
      if (cls.equals("java.util.concurrent.CompletableFuture") && frame.getMethodName().equals("join")) {
        joining = true;
      } else if (!cls.startsWith("java.") && !cls.startsWith("jdk.")) {
        // the first frame outside the JDK: the code that waits
        return joining && cls.equals("org.apache.ratis.server.impl.LeaderStateImpl")
            && frame.getMethodName().equals("stepDown");
      }
    }
    return false;
  }

  /** The thread holding the monitor, if it is waiting or parked (not running or blocked on another lock). */
  private ThreadInfo waitingHolder() {
    int identity = System.identityHashCode(monitor);
    for (ThreadInfo info : threads.dumpAllThreads(true, false)) {
      if (info == null) {
        continue;
      }
      for (MonitorInfo locked : info.getLockedMonitors()) {
        if (locked.getIdentityHashCode() == identity && locked.getClassName().equals(monitor.getClass().getName())) {
          Thread.State state = info.getThreadState();
          return state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING ? info : null;
        }
      }
    }
    return null;
  }

  @Override
  public void close() {
    thread.interrupt();
  }
}
