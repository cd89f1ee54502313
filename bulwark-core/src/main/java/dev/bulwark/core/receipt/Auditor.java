package dev.bulwark.core.receipt;

import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.merkle.ConsistencyProof;

/**
 * Checks that two signed batch heads describe one history. Contradictions visible in the
 * heads alone (two heads for one batch, a log that shrinks, a broken hash chain, one size with
 * two roots) are reported as a {@link AuditResult.Fork} with both heads as evidence; otherwise
 * the RFC 9162 consistency proof must show that the later log extends the earlier one.
 */
public final class Auditor {
  private Auditor() {}

  public static AuditResult audit(SignedBatchHead a, SignedBatchHead b, ConsistencyProof proof, PublicKey operatorKey) {
    if (!a.verify(operatorKey)) {
      return new AuditResult.Unverifiable("the first head's signature does not verify under operator key "
          + operatorKey.fingerprint());
    }
    if (!b.verify(operatorKey)) {
      return new AuditResult.Unverifiable("the second head's signature does not verify under operator key "
          + operatorKey.fingerprint());
    }
    SignedBatchHead first = a.head().batchNumber() <= b.head().batchNumber() ? a : b;
    SignedBatchHead second = first == a ? b : a;
    BatchHead h1 = first.head();
    BatchHead h2 = second.head();
    if (!h1.operatorId().equals(h2.operatorId())) {
      return new AuditResult.Unverifiable("the heads are of different operators: '" + h1.operatorId() + "' and '"
          + h2.operatorId() + "'");
    }
    if (h1.batchNumber() == h2.batchNumber()) {
      return h1.equals(h2)
          ? new AuditResult.Consistent("both are the head of batch " + h1.batchNumber())
          : new AuditResult.Fork("two different signed heads for batch " + h1.batchNumber(), first, second);
    }
    if (h1.logSize() > h2.logSize()) {
      return new AuditResult.Fork("batch " + h2.batchNumber() + " has a smaller log (" + h2.logSize()
          + ") than earlier batch " + h1.batchNumber() + " (" + h1.logSize() + ")", first, second);
    }
    if (h2.batchNumber() == h1.batchNumber() + 1 && !h2.previousHeadHash().equals(h1.hash())) {
      return new AuditResult.Fork("batch " + h2.batchNumber() + " does not chain to the signed head of batch "
          + h1.batchNumber(), first, second);
    }
    if (h1.logSize() == h2.logSize() && !h1.logRoot().equals(h2.logRoot())) {
      return new AuditResult.Fork("one log size (" + h1.logSize() + ") with two different roots", first, second);
    }
    if (proof.firstSize() != h1.logSize() || proof.secondSize() != h2.logSize()) {
      return new AuditResult.Unverifiable("the proof is for log sizes " + proof.firstSize() + " -> "
          + proof.secondSize() + " but the heads have " + h1.logSize() + " -> " + h2.logSize());
    }
    if (!proof.verify(h1.logRoot(), h2.logRoot())) {
      return new AuditResult.ProofRejected("the consistency proof does not show that the log of batch "
          + h2.batchNumber() + " extends the log of batch " + h1.batchNumber());
    }
    return new AuditResult.Consistent("the log of batch " + h2.batchNumber() + " (" + h2.logSize()
        + " leaves) extends the log of batch " + h1.batchNumber() + " (" + h1.logSize() + " leaves)");
  }
}
