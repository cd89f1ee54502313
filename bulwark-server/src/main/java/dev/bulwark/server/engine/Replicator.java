package dev.bulwark.server.engine;

import java.util.concurrent.CompletableFuture;

/**
 * How the leader gets a batch committed: the future completes once the batch is committed by
 * a majority and applied to the local {@link Replica}, or fails with
 * {@link NotCommittedException} when it definitely was not (leadership moved).
 *
 * <p>Entries are handed over in batch order, each built on the ones before it. So a refusal
 * must hold for what follows: an entry refused when handed over fails at once (the sequencer
 * then seals nothing more on top of it), and one that fails later takes every entry handed
 * over after it down too. {@link OutcomeUnknownException} is for an entry that may still
 * commit under the next leader.
 */
public interface Replicator {
  CompletableFuture<Void> replicate(BatchEntry entry);
}
