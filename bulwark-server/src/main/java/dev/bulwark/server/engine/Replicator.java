package dev.bulwark.server.engine;

import java.util.concurrent.CompletableFuture;

/**
 * How the leader gets a batch committed: the future completes once the batch is committed by
 * a majority and applied to the local {@link Replica}, or fails with
 * {@link NotCommittedException} when it definitely was not (leadership moved).
 */
public interface Replicator {
  CompletableFuture<Void> replicate(BatchEntry entry);
}
