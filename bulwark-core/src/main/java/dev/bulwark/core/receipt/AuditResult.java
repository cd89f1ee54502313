package dev.bulwark.core.receipt;

/** What an auditor concludes from two signed heads and a consistency proof. */
public sealed interface AuditResult {
  /** One line for people and scripts. */
  String summary();

  /** The later head extends the earlier one. */
  record Consistent(String summary) implements AuditResult {}

  /**
   * Two validly signed heads that cannot both be true: the operator showed different users
   * different histories. The two heads are the evidence; anyone can re-check them.
   */
  record Fork(String summary, SignedBatchHead first, SignedBatchHead second) implements AuditResult {}

  /**
   * Both heads are validly signed but the proof does not connect them. Either the proof is
   * wrong or the log forked: an operator that cannot produce a valid proof has forked.
   */
  record ProofRejected(String summary) implements AuditResult {}

  /** The inputs cannot be judged: a signature does not verify, or the proof is for other sizes. */
  record Unverifiable(String summary) implements AuditResult {}
}
