package dev.bulwark.core.receipt;

import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.crypto.CryptoCodecs;
import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.crypto.Signature;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.merkle.InclusionProof;
import dev.bulwark.core.state.StateEntryProof;
import java.util.List;
import java.util.Objects;

/**
 * A confirmation a user can check offline with nothing but the operator's public key: either
 * signed on its own (per-request mode) or covered by the signed head of its batch through an
 * inclusion proof into the confirmation log (per-batch mode, one signature per batch).
 */
public sealed interface Receipt {
  Confirmation confirmation();

  /** Checks every part of the receipt against {@code operatorKey}; the first failure is named. */
  Verification verify(PublicKey operatorKey);

  /** {@link #verify(PublicKey)}, with head signatures checked once through {@code heads}. */
  default Verification verify(VerifiedHeads heads) {
    return verify(heads.operatorKey());
  }

  /** The operator signed this confirmation itself. */
  record PerRequest(Confirmation confirmation, Signature signature) implements Receipt {
    public PerRequest {
      Objects.requireNonNull(confirmation);
      Objects.requireNonNull(signature);
    }

    public static PerRequest sign(Confirmation confirmation, SigningKey operatorKey) {
      return new PerRequest(confirmation, operatorKey.sign(Confirmation.DOMAIN, confirmation.leaf()));
    }

    @Override
    public Verification verify(PublicKey operatorKey) {
      return Verification.check(operatorKey.verify(Confirmation.DOMAIN, confirmation.leaf(), signature),
          "confirmation signature does not verify under operator key " + operatorKey.fingerprint());
    }
  }

  /**
   * The confirmation is a leaf of the log whose root the batch's signed head commits to; the
   * optional state proofs show entries the request touched (an account's balance after it,
   * say) under the state root in the same head.
   */
  record PerBatch(Confirmation confirmation, SignedBatchHead head, InclusionProof inclusion,
      List<StateEntryProof> state) implements Receipt {
    /** A receipt carries at most this many state proofs. */
    public static final int STATE_PROOFS_MAX = 64;

    public PerBatch {
      Objects.requireNonNull(confirmation);
      Objects.requireNonNull(head);
      Objects.requireNonNull(inclusion);
      if (state.size() > STATE_PROOFS_MAX) {
        throw new IllegalArgumentException("a receipt carries at most " + STATE_PROOFS_MAX + " state proofs");
      }
      state = List.copyOf(state);
    }

    /** A receipt without state proofs. */
    public PerBatch(Confirmation confirmation, SignedBatchHead head, InclusionProof inclusion) {
      this(confirmation, head, inclusion, List.of());
    }

    @Override
    public Verification verify(PublicKey operatorKey) {
      return verify(operatorKey, head.verify(operatorKey));
    }

    @Override
    public Verification verify(VerifiedHeads heads) {
      return verify(heads.operatorKey(), heads.verify(head));
    }

    private Verification verify(PublicKey operatorKey, boolean headVerified) {
      BatchHead h = head.head();
      if (!headVerified) {
        return new Verification.Invalid("batch head signature does not verify under operator key "
            + operatorKey.fingerprint());
      }
      if (!confirmation.operatorId().equals(h.operatorId())) {
        return new Verification.Invalid("confirmation is for operator '" + confirmation.operatorId()
            + "' but the head is of operator '" + h.operatorId() + "'");
      }
      if (confirmation.batchNumber() != h.batchNumber()) {
        return new Verification.Invalid("confirmation is in batch " + confirmation.batchNumber()
            + " but the head is of batch " + h.batchNumber());
      }
      if (inclusion.treeSize() != h.logSize()) {
        return new Verification.Invalid("inclusion proof is for a log of " + inclusion.treeSize()
            + " leaves but the head commits to " + h.logSize());
      }
      if (!inclusion.verify(confirmation.leafHash(), h.logRoot())) {
        return new Verification.Invalid("inclusion proof does not lead from the confirmation to the head's log root");
      }
      for (int i = 0; i < state.size(); i++) {
        if (!state.get(i).verify(h.stateRoot())) {
          return new Verification.Invalid("state proof " + i + " does not show its entry under the head's state root");
        }
      }
      return new Verification.Valid();
    }
  }

  Codec<PerRequest> PER_REQUEST_CODEC = Codecs.record("bulwark.Receipt.PerRequest",
      Codecs.field("confirmation", Confirmation.CODEC, PerRequest::confirmation),
      Codecs.field("signature", CryptoCodecs.signature(), PerRequest::signature),
      PerRequest::new);

  Codec<PerBatch> PER_BATCH_CODEC = Codecs.record("bulwark.Receipt.PerBatch",
      Codecs.field("confirmation", Confirmation.CODEC, PerBatch::confirmation),
      Codecs.field("head", SignedBatchHead.CODEC, PerBatch::head),
      Codecs.field("inclusion", InclusionProof.CODEC, PerBatch::inclusion),
      Codecs.field("state", Codecs.list(StateEntryProof.CODEC), PerBatch::state),
      PerBatch::new);

  /** The canonical binary form: a tagged union, 0 per-request, 1 per-batch. */
  Codec<Receipt> CODEC = Codecs.union("bulwark.Receipt", Receipt.class,
      Codecs.variant(0, "PerRequest", PerRequest.class, PER_REQUEST_CODEC),
      Codecs.variant(1, "PerBatch", PerBatch.class, PER_BATCH_CODEC));
}
