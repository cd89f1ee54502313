package dev.bulwark.server.engine;

/** How confirmations are signed. */
public enum ReceiptMode {
  /** One Ed25519 signature per request: the simplest receipt, the most operator CPU. */
  PER_REQUEST,
  /** One signed head per batch and an inclusion proof per request: the cheap default. */
  PER_BATCH
}
