package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
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
  final MonitorWatchdog watchdog = new MonitorWatchdog(server, LIMIT, Duration.ofSeconds(1), now::get, reports::add);

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
    MonitorWatchdog started = MonitorWatchdog.start(server, Duration.ofMillis(200), Duration.ofMillis(20), report::complete);
    try {
      assertThat(report.get(30, TimeUnit.SECONDS)).contains("\"stuck-for-real\"");
    } finally {
      started.close();
      never.complete(null);
      stuck.join(10_000);
    }
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
