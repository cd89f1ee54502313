package dev.bulwark.core.receipt;

import dev.bulwark.core.Digest;
import dev.bulwark.core.crypto.KeyEncoding;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.merkle.MerkleHash;

/**
 * The worked example of {@code docs/receipts.md}: a fixed key (RFC 8032's TEST 1), two
 * batches (3 then 2 confirmations), and the per-batch receipt of leaf 3. Run {@link #main}
 * to print every intermediate value the document shows; {@link ReceiptDocsTest} checks that
 * the document still matches.
 */
final class ReceiptExample {
  static final long TIME_MS = 1_767_225_600_000L; // 2026-01-01T00:00:00Z

  final SigningKey key = SigningKey.fromSeed(ReceiptFixture.RFC8032_TEST1_SEED);
  final ReceiptFixture operator = new ReceiptFixture("example-operator", key);

  ReceiptExample() {
    operator.batch(3, TIME_MS);
    operator.batch(2, TIME_MS + 100);
  }

  Receipt.PerBatch receipt() {
    return operator.receipts.get(3);
  }

  public static void main(String[] args) {
    ReceiptExample ex = new ReceiptExample();
    Receipt.PerBatch r = ex.receipt();
    System.out.println("operator public key PEM:\n" + KeyEncoding.publicKeyPem(ex.key.publicKey()));
    System.out.println("public key hex: " + ex.key.publicKey().hex());
    System.out.println("receipt JSON:\n" + ReceiptJson.write(r));
    System.out.println("leaf (confirmation encoding): " + r.confirmation().leaf().hex());
    System.out.println("leaf hash: " + r.confirmation().leafHash());
    Digest acc = r.confirmation().leafHash();
    long fn = r.inclusion().leafIndex();
    long sn = r.inclusion().treeSize() - 1;
    for (Digest p : r.inclusion().path()) {
      boolean left = (fn & 1) == 1 || fn == sn;
      acc = left ? MerkleHash.node(p, acc) : MerkleHash.node(acc, p);
      System.out.println("  fn=" + fn + " sn=" + sn + (left ? " p is left : " : " p is right: ") + acc);
      if (left && (fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>>= 1;
          sn >>>= 1;
        }
      }
      fn >>>= 1;
      sn >>>= 1;
    }
    var entry = r.state().getFirst();
    System.out.println("state key: " + entry.key().hex() + "  key hash: " + Digest.sha256(entry.key()));
    System.out.println("state value: " + entry.value().map(v -> v.hex()).orElse("absent"));
    for (var node : entry.proof().nodes()) {
      System.out.println("  state node " + node.hex() + "\n    hash " + Digest.sha256(node));
    }
    System.out.println("head state root: " + r.head().head().stateRoot());
    System.out.println("head log root: " + r.head().head().logRoot());
    System.out.println("head encoding: " + BatchHead.CODEC.encode(r.head().head()).hex());
    System.out.println("signed message: " + BatchHead.DOMAIN.message(BatchHead.CODEC.encode(r.head().head())).hex());
    System.out.println("head hash: " + r.head().head().hash());
    System.out.println("batch 0 head hash: " + ex.operator.heads.get(0).head().hash());
    System.out.println("valid: " + r.verify(ex.key.publicKey()));
    System.out.println("head 0 JSON:\n" + ReceiptJson.write(ex.operator.heads.get(0)));
    System.out.println("head 1 JSON:\n" + ReceiptJson.write(ex.operator.heads.get(1)));
    System.out.println("consistency 3 -> 5:\n" + ReceiptJson.write(ex.operator.log.consistencyProof(ex.operator.store, 3, 5)));
  }
}
