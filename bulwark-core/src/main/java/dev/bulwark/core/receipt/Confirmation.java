package dev.bulwark.core.receipt;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.crypto.SignatureDomain;
import dev.bulwark.core.merkle.MerkleHash;
import java.util.Objects;

/**
 * What the operator confirms about one request: that the request with this digest was
 * applied as request {@code indexInBatch} of batch {@code batchNumber} with this result.
 * Its canonical encoding is both what a per-request signature covers (under {@link #DOMAIN})
 * and the leaf that per-batch mode appends to the confirmation log.
 */
public record Confirmation(String operatorId, Digest requestDigest, long batchNumber, int indexInBatch,
    Digest resultDigest) {

  /** Per-request signatures use this domain. */
  public static final SignatureDomain DOMAIN = new SignatureDomain("bulwark/confirmation/v1");

  public static final Codec<Confirmation> CODEC = Codecs.record("bulwark.Confirmation",
      Codecs.field("operatorId", Codecs.utf8(), Confirmation::operatorId),
      Codecs.field("requestDigest", Codecs.digest(), Confirmation::requestDigest),
      Codecs.field("batchNumber", Codecs.varU64(), Confirmation::batchNumber),
      Codecs.field("indexInBatch", Codecs.varU32(), Confirmation::indexInBatch),
      Codecs.field("resultDigest", Codecs.digest(), Confirmation::resultDigest),
      Confirmation::new);

  public Confirmation {
    Objects.requireNonNull(operatorId);
    Objects.requireNonNull(requestDigest);
    Objects.requireNonNull(resultDigest);
    if (batchNumber < 0 || indexInBatch < 0) {
      throw new IllegalArgumentException("batch number and index are non-negative");
    }
  }

  /** The canonical encoding: the log leaf in per-batch mode. */
  public Bytes leaf() {
    return CODEC.encode(this);
  }

  /** RFC 9162 leaf hash of {@link #leaf()}. */
  public Digest leafHash() {
    return MerkleHash.leaf(leaf());
  }
}
