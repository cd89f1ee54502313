package dev.bulwark.server.engine;

import dev.bulwark.core.Bytes;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A replicated log of one: each batch is "committed" when the local replica has applied it with
 * a synced write. For a single-replica setup, tests of the pipeline without Raft, and the
 * sequencer benchmark. Applies on one thread, in order.
 */
public final class LocalReplicator implements Replicator, AutoCloseable {
  private final Replica replica;
  private final ExecutorService applier = Executors.newSingleThreadExecutor(
      Thread.ofPlatform().name("bulwark-local-apply").daemon().factory());
  private long nextIndex;

  public LocalReplicator(Replica replica) {
    this.replica = replica;
    this.nextIndex = replica.applied().logIndex() + 1;
  }

  /** Encodes on the caller's thread, as the Raft replicator does, and applies with that encoding. */
  @Override
  public CompletableFuture<Void> replicate(BatchEntry entry) {
    Bytes encoded = entry.encode();
    return CompletableFuture.runAsync(() -> replica.apply(entry, encoded, nextIndex++, 1), applier);
  }

  @Override
  public void close() {
    applier.shutdown();
    try {
      if (!applier.awaitTermination(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("local apply did not finish within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
