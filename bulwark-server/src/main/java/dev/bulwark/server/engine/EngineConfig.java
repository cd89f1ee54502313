package dev.bulwark.server.engine;

import dev.bulwark.store.state.StateConfig;
import java.util.Objects;

/**
 * Every limit of the request pipeline, validated in one place; a bad value fails at start with
 * a message naming the setting.
 *
 * @param operatorId the operator's name in every confirmation and head
 * @param receiptMode per-request signatures or per-batch heads with proofs
 * @param stateProofsInReceipts whether per-batch receipts carry proofs of the state entries the request wrote
 * @param batchRequestsMax a batch closes when it holds this many requests
 * @param batchBytesMax ... or when its writes reach this many bytes
 * @param batchDelayMs 0 (the default): adaptive, a batch closes as soon as the pipeline has room;
 *     otherwise a fixed time slice, the seed's 100 ms for example
 * @param pipelineDepth batches in flight (processed, not yet committed), at least 2
 * @param queueRequestsMax validated requests waiting for the sequencer; past it, "busy"
 * @param validationThreads threads for pure and optimistic validation
 * @param state retention and collection of the authenticated state
 */
public record EngineConfig(String operatorId, ReceiptMode receiptMode, boolean stateProofsInReceipts,
    int batchRequestsMax, long batchBytesMax, long batchDelayMs, int pipelineDepth, int queueRequestsMax,
    int validationThreads, StateConfig state) {

  public EngineConfig {
    Objects.requireNonNull(operatorId, "engine.operatorId must be set");
    Objects.requireNonNull(receiptMode, "engine.receiptMode must be set");
    Objects.requireNonNull(state, "engine.state must be set");
    if (!operatorId.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException("engine.operatorId must be 1 to 64 of A-Z a-z 0-9 . _ -, got '" + operatorId + "'");
    }
    between("engine.batchRequestsMax", batchRequestsMax, 1, 1_000_000);
    between("engine.batchBytesMax", batchBytesMax, 1024, 256L << 20);
    between("engine.batchDelayMs", batchDelayMs, 0, 60_000);
    between("engine.pipelineDepth", pipelineDepth, 2, 64);
    between("engine.queueRequestsMax", queueRequestsMax, 1, 10_000_000);
    between("engine.validationThreads", validationThreads, 1, 1024);
  }

  private static void between(String name, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(name + " must be between " + min + " and " + max + ", got " + value);
    }
  }

  /** Adaptive batches of up to 4,096 requests or 8 MiB, two in flight, per-batch receipts. */
  public static EngineConfig defaults(String operatorId) {
    return new EngineConfig(operatorId, ReceiptMode.PER_BATCH, true, 4096, 8L << 20, 0, 2, 100_000,
        Math.max(2, Runtime.getRuntime().availableProcessors()), StateConfig.DEFAULT);
  }

  public EngineConfig withReceiptMode(ReceiptMode mode) {
    return new EngineConfig(operatorId, mode, stateProofsInReceipts, batchRequestsMax, batchBytesMax, batchDelayMs,
        pipelineDepth, queueRequestsMax, validationThreads, state);
  }

  public EngineConfig withBatching(int requestsMax, long delayMs) {
    return new EngineConfig(operatorId, receiptMode, stateProofsInReceipts, requestsMax, batchBytesMax, delayMs,
        pipelineDepth, queueRequestsMax, validationThreads, state);
  }

  public EngineConfig withQueueRequestsMax(int max) {
    return new EngineConfig(operatorId, receiptMode, stateProofsInReceipts, batchRequestsMax, batchBytesMax, batchDelayMs,
        pipelineDepth, max, validationThreads, state);
  }

  public EngineConfig withState(StateConfig stateConfig) {
    return new EngineConfig(operatorId, receiptMode, stateProofsInReceipts, batchRequestsMax, batchBytesMax, batchDelayMs,
        pipelineDepth, queueRequestsMax, validationThreads, stateConfig);
  }

  public EngineConfig withStateProofsInReceipts(boolean proofs) {
    return new EngineConfig(operatorId, receiptMode, proofs, batchRequestsMax, batchBytesMax, batchDelayMs,
        pipelineDepth, queueRequestsMax, validationThreads, state);
  }
}
