package dev.bulwark.server.engine;

/**
 * Sees each batch go through the leader's pipeline, for metrics. Called on the sequencer
 * thread (sealed) and on the thread that completes replication (done): it must be quick and
 * must not block.
 */
public interface PipelineObserver {
  PipelineObserver NONE = new PipelineObserver() {
    @Override public void sealed(long batchNumber, int requests, long payloadBytes, long buildNanos, long sealNanos) {}

    @Override public void done(long batchNumber, int requests, boolean committed, long replicateNanos) {}
  };

  /**
   * Batch {@code batchNumber} was sealed: {@code buildNanos} from opening it to closing it
   * (waiting for and applying requests), {@code sealNanos} for its state root, log, head and receipts.
   */
  void sealed(long batchNumber, int requests, long payloadBytes, long buildNanos, long sealNanos);

  /** The batch left the pipeline, committed or not, {@code replicateNanos} after it was sealed. */
  void done(long batchNumber, int requests, boolean committed, long replicateNanos);
}
