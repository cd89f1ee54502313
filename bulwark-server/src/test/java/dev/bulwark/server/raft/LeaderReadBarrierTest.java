package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The leader's read barrier on stand-in markers that complete when the test says: a read is
 * released only by a marker submitted after it arrived, reads that arrive together share one,
 * and a failed marker fails its readers without stopping later ones.
 */
class LeaderReadBarrierTest {
  final List<CompletableFuture<Void>> markers = new ArrayList<>();
  final LeaderReadBarrier barrier = new LeaderReadBarrier(() -> {
    CompletableFuture<Void> marker = new CompletableFuture<>();
    markers.add(marker);
    return marker;
  });

  @Test
  void aReadIsReleasedOnlyByAMarkerSubmittedAfterItArrived() {
    CompletableFuture<Void> first = barrier.await();
    assertThat(markers).hasSize(1);
    CompletableFuture<Void> second = barrier.await(); // arrives while marker 0 is in flight
    CompletableFuture<Void> third = barrier.await();
    assertThat(markers).as("one marker in flight at a time").hasSize(1);

    markers.get(0).complete(null);
    assertThat(first).isCompleted();
    assertThat(second).as("marker 0 was appended before the second read arrived").isNotDone();
    assertThat(markers).as("the reads that waited share the next marker").hasSize(2);

    markers.get(1).complete(null);
    assertThat(second).isCompleted();
    assertThat(third).isCompleted();
    assertThat(markers).as("nobody waits: no marker in flight").hasSize(2);

    CompletableFuture<Void> fourth = barrier.await();
    assertThat(markers).hasSize(3);
    assertThat(fourth).isNotDone();
  }

  @Test
  void aFailedMarkerFailsItsReadersAndTheNextOneIsStillSubmitted() {
    CompletableFuture<Void> first = barrier.await();
    CompletableFuture<Void> second = barrier.await();
    markers.get(0).completeExceptionally(new IllegalStateException("not leader"));
    assertThat(first).isCompletedExceptionally();
    assertThat(second).isNotDone();
    assertThat(markers).hasSize(2);
    markers.get(1).complete(null);
    assertThat(second).isCompleted();
  }

  @Test
  void aMarkerThatCannotBeSubmittedFailsItsReaders() {
    LeaderReadBarrier broken = new LeaderReadBarrier(() -> {
      throw new IllegalStateException("no Raft group");
    });
    assertThat(broken.await()).isCompletedExceptionally();
    assertThat(broken.await()).as("and the next read tries again").isCompletedExceptionally();
  }
}
