package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The watchdog that turns Ratis 3.2.0's step-down deadlock into a restart. */
class MonitorWatchdogTest {
  static final Duration LIMIT = Duration.ofSeconds(30);

  /** Stands in for Ratis' server object. */
  static final class RaftServerLike {}

  final RaftServerLike server = new RaftServerLike();
  final AtomicLong now = new AtomicLong();
  final List<String> reports = new ArrayList<>();
  final MonitorWatchdog watchdog = new MonitorWatchdog(server, LIMIT, stack -> false, LIMIT, Duration.ofSeconds(1), now::get,
      reports::add);

  @Test
  void aThreadParkedWhileHoldingTheMonitorPastTheLimitIsReportedOnce() throws Exception {
    CompletableFuture<Void> never = new CompletableFuture<>();
    Thread stepDown = holdWhileParked(never, "stepping-down");
    try {
      assertThat(watchdog.check()).as("first sight starts the count").isFalse();
      now.addAndGet(LIMIT.toNanos() - 1);
      assertThat(watchdog.check()).as("just under the limit").isFalse();
      now.addAndGet(1);
      assertThat(watchdog.check()).as("at the limit").isTrue();
      assertThat(watchdog.check()).as("reported once").isTrue();

      assertThat(reports).hasSize(1);
      assertThat(reports.getFirst()).contains("\"stepping-down\"", RaftServerLike.class.getName(), "WAITING",
          "holdWhileParked");
    } finally {
      never.complete(null);
      stepDown.join(10_000);
    }
  }

  @Test
  void aHolderThatMovesOnOrChangesStartsTheCountAgain() throws Exception {
    CompletableFuture<Void> first = new CompletableFuture<>();
    Thread a = holdWhileParked(first, "first");
    watchdog.check();
    now.addAndGet(LIMIT.toNanos() / 2);
    first.complete(null);
    a.join(10_000);
    assertThat(watchdog.check()).as("nobody holds it").isFalse();

    CompletableFuture<Void> second = new CompletableFuture<>();
    Thread b = holdWhileParked(second, "second");
    try {
      now.addAndGet(LIMIT.toNanos() / 2);
      assertThat(watchdog.check()).as("a new holder is first seen").isFalse();
      now.addAndGet(LIMIT.toNanos() - 1);
      assertThat(watchdog.check()).as("the new holder, just under the limit").isFalse();
      assertThat(reports).isEmpty();
    } finally {
      second.complete(null);
      b.join(10_000);
    }
  }

  @Test
  void aHolderThatRunsIsNotStuck() throws Exception {
    CountDownLatch holding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Thread runner = Thread.ofPlatform().name("running").start(() -> {
      synchronized (server) {
        holding.countDown();
        while (release.getCount() > 0) {
          Thread.onSpinWait(); // runs, holding the monitor
        }
      }
    });
    try {
      assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
      watchdog.check();
      now.addAndGet(LIMIT.toNanos() * 2);
      assertThat(watchdog.check()).isFalse();
      assertThat(reports).isEmpty();
    } finally {
      release.countDown();
      runner.join(10_000);
    }
  }

  @Test
  void aStartedWatchdogReportsOnItsOwn() throws Exception {
    CompletableFuture<String> report = new CompletableFuture<>();
    CompletableFuture<Void> never = new CompletableFuture<>();
    Thread stuck = holdWhileParked(never, "stuck-for-real");
    MonitorWatchdog started = MonitorWatchdog.start(server, Duration.ofMillis(200), stack -> false, Duration.ofMillis(200),
        Duration.ofMillis(20), report::complete);
    try {
      assertThat(report.get(30, TimeUnit.SECONDS)).contains("\"stuck-for-real\"");
    } finally {
      started.close();
      never.complete(null);
      stuck.join(10_000);
    }
  }

  @Test
  void theKnownDeadlocksStackIsReportedAfterItsShorterLimit() throws Exception {
    Duration knownLimit = Duration.ofSeconds(8);
    MonitorWatchdog knowing = new MonitorWatchdog(server, LIMIT,
        stack -> Arrays.stream(stack).anyMatch(f -> f.getMethodName().equals("holdWhileParked")), knownLimit,
        Duration.ofSeconds(1), now::get, reports::add);
    MonitorWatchdog unknowing = new MonitorWatchdog(server, LIMIT, stack -> false, knownLimit, Duration.ofSeconds(1),
        now::get, reports::add);
    CompletableFuture<Void> never = new CompletableFuture<>();
    Thread stepDown = holdWhileParked(never, "stepping-down");
    try {
      assertThat(knowing.check()).isFalse();
      assertThat(unknowing.check()).isFalse();
      now.addAndGet(knownLimit.toNanos() - 1);
      assertThat(knowing.check()).as("just under the known stack's limit").isFalse();
      now.addAndGet(1);
      assertThat(knowing.check()).as("at the known stack's limit").isTrue();
      assertThat(unknowing.check()).as("another stack waits for the full limit").isFalse();
      assertThat(reports).singleElement().asString().contains("in the known deadlock's stack", "\"stepping-down\"");
    } finally {
      never.complete(null);
      stepDown.join(10_000);
    }
  }

  @Test
  void ratisStepDownJoiningItsAppendersIsTheKnownStack() {
    StackTraceElement park = frame("jdk.internal.misc.Unsafe", "park");
    StackTraceElement join = frame("java.util.concurrent.CompletableFuture", "join");
    StackTraceElement stepDown = frame("org.apache.ratis.server.impl.LeaderStateImpl", "stepDown");
    StackTraceElement checkLeadership = frame("org.apache.ratis.server.impl.LeaderStateImpl", "checkLeadership");
    StackTraceElement elsewhere = frame("org.apache.ratis.server.impl.RaftServerImpl", "changeToFollower");

    // as the chaos run's watchdog report showed it (seed 1127, 2026-11-27)
    assertThat(MonitorWatchdog.isRatisStepDownJoin(new StackTraceElement[] {park, join, stepDown, checkLeadership})).isTrue();
    assertThat(MonitorWatchdog.isRatisStepDownJoin(new StackTraceElement[] {park, join, elsewhere, stepDown}))
        .as("joined by other code, under a step-down").isFalse();
    assertThat(MonitorWatchdog.isRatisStepDownJoin(new StackTraceElement[] {park, stepDown})).as("not joining").isFalse();
    assertThat(MonitorWatchdog.isRatisStepDownJoin(new StackTraceElement[] {park, join})).as("no caller").isFalse();
    assertThat(MonitorWatchdog.isRatisStepDownJoin(new StackTraceElement[0])).isFalse();
  }

  private static StackTraceElement frame(String cls, String method) {
    return new StackTraceElement(cls, method, cls.substring(cls.lastIndexOf('.') + 1) + ".java", 1);
  }

  /** A thread that takes the server's monitor and parks on {@code until}, as Ratis' stepDown does; returns once it parks. */
  private Thread holdWhileParked(CompletableFuture<Void> until, String name) throws InterruptedException {
    Thread t = Thread.ofPlatform().name(name).start(() -> holdWhileParked(until));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (t.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(t.getState()).as("the holder parked").isEqualTo(Thread.State.WAITING);
    return t;
  }

  private void holdWhileParked(CompletableFuture<Void> until) {
    synchronized (server) {
      until.join();
    }
  }
}
