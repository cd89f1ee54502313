package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.core.crypto.SigningKey;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.util.AwaitForSignal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A signal given before the wait is kept for it, where Ratis 3.2.0's own drops it; and every
 * replica's state machine updater waits on the kept kind.
 */
class LatchedSignalTest {
  @TempDir
  Path dir;

  @Test
  void ratisDropsASignalGivenBeforeTheWait() throws Exception {
    // Why LatchedSignal exists. If this fails, Ratis keeps such a signal now and LatchedSignal can go.
    AwaitForSignal ratis = new AwaitForSignal("ratis");
    ratis.signal();
    assertThat(ratis.await(20, TimeUnit.MILLISECONDS)).as("the wait ran out: the signal was lost").isFalse();
  }

  @Test
  void aSignalGivenBeforeTheWaitIsTakenByIt() throws Exception {
    LatchedSignal signal = new LatchedSignal("test");
    signal.signal();
    assertThat(signal.await(1, TimeUnit.HOURS)).isTrue();
    assertThat(signal.await(20, TimeUnit.MILLISECONDS)).as("taken once: the next wait runs out").isFalse();
    signal.signal();
    signal.signal();
    assertThat(signal.await(1, TimeUnit.HOURS)).isTrue();
    assertThat(signal.await(20, TimeUnit.MILLISECONDS)).as("two signals before a wait wake it once").isFalse();
    signal.signal();
    signal.await(); // returns: the signal was kept for it
    assertThat(signal.await(20, TimeUnit.MILLISECONDS)).isFalse();
  }

  @Test
  void aWaitOfNoTimeDoesNotTakeTheSignal() throws Exception {
    LatchedSignal signal = new LatchedSignal("test");
    signal.signal();
    assertThat(signal.await(0, TimeUnit.MILLISECONDS)).isFalse();
    assertThat(signal.await(-5, TimeUnit.MILLISECONDS)).isFalse();
    assertThat(signal.await(1, TimeUnit.HOURS)).isTrue();
  }

  @Test
  void aSignalDuringTheWaitEndsIt() throws Exception {
    LatchedSignal signal = new LatchedSignal("test");
    CompletableFuture<Boolean> woken = new CompletableFuture<>();
    Thread waiter = Thread.ofPlatform().start(() -> {
      try {
        woken.complete(signal.await(1, TimeUnit.HOURS));
      } catch (InterruptedException e) {
        woken.completeExceptionally(e);
      }
    });
    for (int i = 0; i < 10_000 && waiter.getState() != Thread.State.TIMED_WAITING; i++) {
      Thread.sleep(1);
    }
    assertThat(waiter.getState()).as("the waiter waits").isEqualTo(Thread.State.TIMED_WAITING);
    signal.signal();
    assertThat(woken.get(10, TimeUnit.SECONDS)).isTrue();
    waiter.join(10_000);
    assertThat(waiter.isAlive()).isFalse();
  }

  @Test
  void everyReplicasUpdaterWaitsOnALatchedSignal() throws Exception {
    try (var replica = SingleLedgerReplica.start(dir, "signals", SigningKey.generate(new SplittableRandom(41)))) {
      var division = replica.raftDivision();
      AwaitForSignal installed = RatisSignals.updaterSignal(division);
      assertThat(installed).isInstanceOf(LatchedSignal.class);
      assertThat(RatisSignals.latchUpdater(division)).as("latching again keeps the one in place").isSameAs(installed);
      assertThat(RatisSignals.updaterSignal(division)).isSameAs(installed);
    }
  }
}
