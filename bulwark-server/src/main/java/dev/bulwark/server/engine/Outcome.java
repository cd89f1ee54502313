package dev.bulwark.server.engine;

import dev.bulwark.core.receipt.Receipt;

/** The engine's answer to one request. */
public sealed interface Outcome {
  /** Committed in a batch; the receipt proves it. A retry of the same (client, sequence) gets this again. */
  record Confirmed(ResultEnvelope result, Receipt receipt) implements Outcome {}

  /** Refused before sequencing (malformed, bad signature, a state check failed): nothing was recorded. */
  record Rejected(String code, String message) implements Outcome {}

  /** Definitely not committed (leadership moved, the batch failed): retry with the same sequence number. */
  record NotCommitted(String reason) implements Outcome {}

  /** Too many requests waiting; retry later. */
  record Busy(String reason) implements Outcome {}
}
