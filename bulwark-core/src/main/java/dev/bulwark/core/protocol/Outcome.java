package dev.bulwark.core.protocol;

import dev.bulwark.core.receipt.Receipt;

/** The engine's answer to one request. */
public sealed interface Outcome {
  /** Committed in a batch; the receipt proves it. A retry of the same (client, sequence) gets this again. */
  record Confirmed(ResultEnvelope result, Receipt receipt) implements Outcome {}

  /** Refused before sequencing (malformed, bad signature, a state check failed): nothing was recorded. */
  record Rejected(String code, String message) implements Outcome {}

  /** Definitely not committed (never handed to replication, or refused by it): retry with the same sequence number. */
  record NotCommitted(String reason) implements Outcome {}

  /**
   * Handed to replication, then leadership moved before the outcome was known: the batch may
   * still commit under the next leader, or may be dropped. Retry with the same sequence number:
   * the retry returns the original receipt if it committed, or applies it once if it did not.
   */
  record Unknown(String reason) implements Outcome {}

  /** This replica does not lead; {@code leaderId} names the one that does, when known. */
  record NotLeader(java.util.Optional<String> leaderId) implements Outcome {}

  /** Too many requests waiting; retry later. */
  record Busy(String reason) implements Outcome {}
}
