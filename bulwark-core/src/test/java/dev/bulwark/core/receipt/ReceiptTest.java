package dev.bulwark.core.receipt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.DecodeException;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.json.JsonException;
import dev.bulwark.core.merkle.ConsistencyProof;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ReceiptTest {
  static final SigningKey OPERATOR = SigningKey.fromSeed(ReceiptFixture.RFC8032_TEST1_SEED);
  static final SigningKey STRANGER = SigningKey.generate(new SplittableRandom(99));

  static ReceiptFixture threeBatches() {
    ReceiptFixture f = new ReceiptFixture("demo-operator", OPERATOR);
    f.batch(3, 1_700_000_000_000L);
    f.batch(1, 1_700_000_000_100L);
    f.batch(5, 1_700_000_000_200L);
    return f;
  }

  @Test
  void perBatchReceiptsVerifyWithTheOperatorKeyOnly() {
    ReceiptFixture f = threeBatches();
    assertThat(f.receipts).hasSize(9);
    for (Receipt.PerBatch r : f.receipts) {
      assertThat(r.verify(OPERATOR.publicKey())).isEqualTo(new Verification.Valid());
      assertThat(r.verify(STRANGER.publicKey())).isInstanceOf(Verification.Invalid.class);
    }
  }

  @Test
  void perRequestReceiptsVerifyWithTheOperatorKeyOnly() {
    ReceiptFixture f = threeBatches();
    for (Receipt.PerBatch r : f.receipts) {
      Receipt.PerRequest signed = Receipt.PerRequest.sign(r.confirmation(), OPERATOR);
      assertThat(signed.verify(OPERATOR.publicKey()).isValid()).isTrue();
      assertThat(signed.verify(STRANGER.publicKey()).isValid()).isFalse();
    }
  }

  @Test
  void stateProofsInAReceiptShowTheTouchedBalanceUnderTheHeadsStateRoot() {
    ReceiptFixture f = threeBatches();
    Receipt.PerBatch last = f.receipts.getLast();
    assertThat(last.state()).hasSize(1);
    var checked = ReceiptFixture.BALANCES.check(last.head().head().stateRoot(), "bob", last.state().getFirst().proof());
    assertThat(checked).isEqualTo(new dev.bulwark.core.state.AuthenticatedMap.Checked.Present<>(f.balances.get("bob")));
    // A proof under another batch's state root is named as the failing check.
    Receipt.PerBatch mixed = new Receipt.PerBatch(last.confirmation(), last.head(), last.inclusion(),
        f.receipts.getFirst().state());
    assertThat(mixed.verify(OPERATOR.publicKey()))
        .isEqualTo(new Verification.Invalid("state proof 0 does not show its entry under the head's state root"));
  }

  @Test
  void aReceiptFromAnotherBatchOrOperatorIsNamedAsSuch() {
    ReceiptFixture f = threeBatches();
    Receipt.PerBatch r = f.receipts.getFirst();
    Receipt.PerBatch wrongHead = new Receipt.PerBatch(r.confirmation(), f.heads.get(2), r.inclusion());
    assertThat(wrongHead.verify(OPERATOR.publicKey()))
        .isEqualTo(new Verification.Invalid("confirmation is in batch 0 but the head is of batch 2"));
    Confirmation other = new Confirmation("someone-else", r.confirmation().requestDigest(), 0, 0,
        r.confirmation().resultDigest());
    assertThat(new Receipt.PerBatch(other, r.head(), r.inclusion()).verify(OPERATOR.publicKey()))
        .isInstanceOf(Verification.Invalid.class);
  }

  @Test
  void rememberedHeadsAreTrustedOnlyUnderTheirOwnKeyAndSignature() {
    ReceiptFixture f = threeBatches();
    VerifiedHeads heads = new VerifiedHeads(OPERATOR.publicKey(), 2);
    for (Receipt.PerBatch r : f.receipts) {
      assertThat(r.verify(heads)).isEqualTo(new Verification.Valid());
    }
    Receipt.PerBatch r = f.receipts.getFirst();
    var forgedHead = new SignedBatchHead(r.head().head(), f.receipts.getLast().head().signature());
    assertThat(new Receipt.PerBatch(r.confirmation(), forgedHead, r.inclusion(), r.state()).verify(heads))
        .isInstanceOf(Verification.Invalid.class);
    VerifiedHeads stranger = new VerifiedHeads(STRANGER.publicKey(), 2);
    assertThat(r.verify(stranger)).isInstanceOf(Verification.Invalid.class);
  }

  /** Every single-bit change of a receipt's binary form is rejected by decoding or by verification. */
  @Test
  void flippingAnyBitOfAReceiptMakesItFail() {
    ReceiptFixture f = threeBatches();
    for (Receipt receipt : new Receipt[] {f.receipts.get(4), Receipt.PerRequest.sign(f.receipts.get(4).confirmation(), OPERATOR)}) {
      byte[] encoded = Receipt.CODEC.encode(receipt).toByteArray();
      // With the genuine head already verified and remembered, as a busy client would have it.
      VerifiedHeads warm = new VerifiedHeads(OPERATOR.publicKey(), 16);
      assertThat(receipt.verify(warm).isValid()).isTrue();
      int accepted = 0;
      for (int bit = 0; bit < encoded.length * 8; bit++) {
        byte[] mutated = encoded.clone();
        mutated[bit / 8] ^= (byte) (1 << (bit % 8));
        Receipt decoded;
        try {
          decoded = Receipt.CODEC.decode(Bytes.adopt(mutated));
        } catch (DecodeException | IllegalArgumentException e) {
          continue;
        }
        if (decoded.verify(OPERATOR.publicKey()).isValid() || decoded.verify(warm).isValid()) {
          accepted++;
        }
      }
      assertThat(accepted).as("mutations of %s accepted", receipt.getClass().getSimpleName()).isZero();
    }
  }

  @Test
  void binaryAndJsonFormsRoundTrip() {
    ReceiptFixture f = threeBatches();
    for (Receipt r : f.receipts) {
      assertThat(Receipt.CODEC.decode(Receipt.CODEC.encode(r))).isEqualTo(r);
      assertThat(ReceiptJson.readReceipt(ReceiptJson.write(r))).isEqualTo(r);
      Receipt perRequest = Receipt.PerRequest.sign(r.confirmation(), OPERATOR);
      assertThat(ReceiptJson.readReceipt(ReceiptJson.write(perRequest))).isEqualTo(perRequest);
    }
    SignedBatchHead head = f.heads.get(1);
    assertThat(ReceiptJson.readHead(ReceiptJson.write(head))).isEqualTo(head);
    ConsistencyProof proof = f.log.consistencyProof(f.store, 3, 9);
    assertThat(ReceiptJson.readConsistencyProof(ReceiptJson.write(proof))).isEqualTo(proof);
  }

  @Test
  void malformedJsonNamesTheMember() {
    ReceiptFixture f = threeBatches();
    String json = ReceiptJson.write(f.receipts.getFirst());
    assertThatThrownBy(() -> ReceiptJson.readReceipt(json.replace("\"logSize\"", "\"logSiz\"")))
        .isInstanceOf(JsonException.class).hasMessageContaining("receipt.head.logSiz: unknown member");
    assertThatThrownBy(() -> ReceiptJson.readReceipt(json.replaceFirst("\"requestDigest\": \"..", "\"requestDigest\": \"")))
        .isInstanceOf(JsonException.class).hasMessageContaining("receipt.confirmation.requestDigest: expected 64 hex digits");
    assertThatThrownBy(() -> ReceiptJson.readReceipt(json.replace("\"mode\": \"per-batch\"", "\"mode\": \"sometimes\"")))
        .isInstanceOf(JsonException.class).hasMessageContaining("receipt.mode");
    assertThatThrownBy(() -> ReceiptJson.readReceipt(json.substring(0, json.length() / 2)))
        .isInstanceOf(JsonException.class).hasMessageContaining("invalid JSON at character");
    assertThatThrownBy(() -> ReceiptJson.readReceipt("[]")).isInstanceOf(JsonException.class)
        .hasMessageContaining("receipt: expected an object");
    assertThatThrownBy(() -> ReceiptJson.readHead(json)).isInstanceOf(JsonException.class)
        .hasMessageContaining("head.format: expected \"bulwark.signed-batch-head.v1\"");
  }

  @Test
  void headsChainAndEveryPairIsConsistent() {
    ReceiptFixture f = threeBatches();
    f.batch(0, 1_700_000_000_300L); // an empty batch still gets a head
    f.batch(17, 1_700_000_000_400L);
    for (int i = 1; i < f.heads.size(); i++) {
      assertThat(f.heads.get(i).head().previousHeadHash()).isEqualTo(f.heads.get(i - 1).head().hash());
    }
    for (SignedBatchHead a : f.heads) {
      for (SignedBatchHead b : f.heads) {
        long m = Math.min(a.head().logSize(), b.head().logSize());
        long n = Math.max(a.head().logSize(), b.head().logSize());
        AuditResult result = Auditor.audit(a, b, f.log.consistencyProof(f.store, m, n), OPERATOR.publicKey());
        assertThat(result).as("%d vs %d", a.head().batchNumber(), b.head().batchNumber())
            .isInstanceOf(AuditResult.Consistent.class);
      }
    }
  }

  @Test
  void theAuditorReportsForksWithBothHeadsAsEvidence() {
    ReceiptFixture honest = threeBatches();
    // The same operator key, a different history from batch 1 on: shown to other users.
    ReceiptFixture forked = new ReceiptFixture("demo-operator", OPERATOR);
    forked.batch(3, 1_700_000_000_000L);
    forked.batch(2, 1_700_000_000_100L);
    forked.batch(4, 1_700_000_000_200L);

    SignedBatchHead h1 = honest.heads.get(1);
    SignedBatchHead f1 = forked.heads.get(1);
    AuditResult sameBatch = Auditor.audit(h1, f1, honest.log.consistencyProof(honest.store, 4, 4), OPERATOR.publicKey());
    assertThat(sameBatch).isInstanceOf(AuditResult.Fork.class);
    assertThat(sameBatch.summary()).isEqualTo("two different signed heads for batch 1");
    assertThat(((AuditResult.Fork) sameBatch).first().verify(OPERATOR.publicKey())).isTrue();
    assertThat(((AuditResult.Fork) sameBatch).second().verify(OPERATOR.publicKey())).isTrue();

    // Batch 2 of the fork does not chain to the honest batch 1.
    AuditResult chain = Auditor.audit(h1, forked.heads.get(2),
        honest.log.consistencyProof(honest.store, 4, 9), OPERATOR.publicKey());
    assertThat(chain).isInstanceOf(AuditResult.Fork.class);
    assertThat(chain.summary()).contains("does not chain");

    // Honest batch 0 against forked batch 2 (sizes 3 -> 9): no proof from the honest log fits.
    AuditResult proofRejected = Auditor.audit(honest.heads.get(0), forked.heads.get(2),
        honest.log.consistencyProof(honest.store, 3, 9), OPERATOR.publicKey());
    assertThat(proofRejected).isInstanceOf(AuditResult.ProofRejected.class);
  }

  @Test
  void theAuditorRefusesToJudgeUnsignedOrMismatchedInput() {
    ReceiptFixture f = threeBatches();
    SignedBatchHead forged = SignedBatchHead.sign(f.heads.get(2).head(), STRANGER);
    assertThat(Auditor.audit(f.heads.get(0), forged, f.log.consistencyProof(f.store, 3, 9), OPERATOR.publicKey()))
        .isInstanceOf(AuditResult.Unverifiable.class);
    assertThat(Auditor.audit(f.heads.get(0), f.heads.get(2), f.log.consistencyProof(f.store, 4, 9), OPERATOR.publicKey())
        .summary()).contains("the proof is for log sizes 4 -> 9");
  }

  @Test
  void aShrinkingLogIsAFork() {
    ReceiptFixture f = threeBatches();
    BatchHead h2 = f.heads.get(2).head();
    SignedBatchHead shrunk = SignedBatchHead.sign(new BatchHead(h2.operatorId(), 5, 2, h2.logRoot(), h2.stateRoot(),
        h2.previousHeadHash(), h2.timeMs()), OPERATOR);
    AuditResult result = Auditor.audit(f.heads.get(2), shrunk, new ConsistencyProof(2, 9, java.util.List.of()),
        OPERATOR.publicKey());
    assertThat(result).isInstanceOf(AuditResult.Fork.class);
    assertThat(result.summary()).contains("smaller log");
  }
}
