package dev.bulwark.core.receipt;

import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.crypto.SignatureDomain;
import java.util.Objects;

/**
 * What the operator commits to at the end of a batch: how long the confirmation log is and
 * its RFC 9162 root, the root of the authenticated state, and the hash of the previous head,
 * so heads form a chain and any two can be checked against each other.
 *
 * @param operatorId the operator's name; receipts of other operators never verify here
 * @param batchNumber 0 for the first batch, then one more per batch
 * @param logSize leaves in the confirmation log after this batch
 * @param logRoot the log's root at {@code logSize}
 * @param stateRoot the authenticated state's root after this batch (zero until the state is authenticated)
 * @param previousHeadHash {@link #hash()} of batch {@code batchNumber - 1}, zero for batch 0
 * @param timeMs when the batch closed, milliseconds since the epoch, as the leader's clock read it
 */
public record BatchHead(String operatorId, long batchNumber, long logSize, Digest logRoot, Digest stateRoot,
    Digest previousHeadHash, long timeMs) {

  /** Signatures over heads and the head hash use this domain. */
  public static final SignatureDomain DOMAIN = new SignatureDomain("bulwark/batch-head/v1");
  /** The previous-head hash of batch 0, and the state root before state is authenticated. */
  public static final Digest ZERO = Digest.of(new byte[Digest.LENGTH]);

  public static final Codec<BatchHead> CODEC = Codecs.record("bulwark.BatchHead",
      Codecs.field("operatorId", Codecs.utf8(), BatchHead::operatorId),
      Codecs.field("batchNumber", Codecs.varU64(), BatchHead::batchNumber),
      Codecs.field("logSize", Codecs.varU64(), BatchHead::logSize),
      Codecs.field("logRoot", Codecs.digest(), BatchHead::logRoot),
      Codecs.field("stateRoot", Codecs.digest(), BatchHead::stateRoot),
      Codecs.field("previousHeadHash", Codecs.digest(), BatchHead::previousHeadHash),
      Codecs.field("timeMs", Codecs.u64(), BatchHead::timeMs),
      BatchHead::new);

  public BatchHead {
    Objects.requireNonNull(operatorId);
    Objects.requireNonNull(logRoot);
    Objects.requireNonNull(stateRoot);
    Objects.requireNonNull(previousHeadHash);
    if (batchNumber < 0 || logSize < 0 || timeMs < 0) {
      throw new IllegalArgumentException("batch number, log size and time are non-negative");
    }
    if (batchNumber == 0 && !previousHeadHash.equals(ZERO)) {
      throw new IllegalArgumentException("batch 0 has no previous head; its previous-head hash is zero");
    }
  }

  /** SHA-256 of the domain tag, 0x00 and the canonical encoding: what the next head chains to. */
  public Digest hash() {
    return Digest.sha256(DOMAIN.message(CODEC.encode(this)));
  }
}
