package dev.bulwark.core.receipt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.core.crypto.KeyEncoding;
import dev.bulwark.core.crypto.PublicKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The worked example in docs/receipts.md verifies, and is what the code produces today. */
class ReceiptDocsTest {
  static final Path DOC = Path.of("..", "docs", "receipts.md");

  static String block(String doc, String marker) {
    int at = doc.indexOf("<!-- " + marker + " -->");
    assertThat(at).as("marker %s in %s", marker, DOC).isNotNegative();
    int start = doc.indexOf("```json\n", at) + "```json\n".length();
    int end = doc.indexOf("```", start);
    return doc.substring(start, end);
  }

  @Test
  void theDocumentedExampleVerifiesAndIsCurrent() throws IOException {
    String doc = Files.readString(DOC);
    int pemStart = doc.indexOf("-----BEGIN PUBLIC KEY-----");
    int pemEnd = doc.indexOf("-----END PUBLIC KEY-----") + "-----END PUBLIC KEY-----".length();
    PublicKey key = KeyEncoding.parsePublicKey(doc.substring(pemStart, pemEnd) + "\n");

    Receipt receipt = ReceiptJson.readReceipt(block(doc, "example-receipt"));
    assertThat(receipt.verify(key).isValid()).isTrue();
    SignedBatchHead head0 = ReceiptJson.readHead(block(doc, "example-head-0"));
    var proof = ReceiptJson.readConsistencyProof(block(doc, "example-consistency"));
    SignedBatchHead head1 = ((Receipt.PerBatch) receipt).head();
    assertThat(Auditor.audit(head0, head1, proof, key)).isInstanceOf(AuditResult.Consistent.class);
    assertThat(head1.head().previousHeadHash()).isEqualTo(head0.head().hash());

    ReceiptExample example = new ReceiptExample();
    assertThat(ReceiptJson.write(example.receipt())).isEqualTo(block(doc, "example-receipt"));
    assertThat(ReceiptJson.write(example.operator.heads.getFirst())).isEqualTo(block(doc, "example-head-0"));
    assertThat(doc).contains(example.receipt().confirmation().leafHash().hex());

    var stateProof = ReceiptJson.readStateProof(block(doc, "example-state-proof"));
    assertThat(stateProof.stateRoot()).isEqualTo(head1.head().stateRoot());
    assertThat(stateProof.proof().verify(head1.head().stateRoot())).isTrue();
    assertThat(stateProof.proof()).isEqualTo(((Receipt.PerBatch) receipt).state().getFirst());
    assertThat(ReceiptJson.write(stateProof.stateRoot(), stateProof.proof())).isEqualTo(block(doc, "example-state-proof"));
    assertThat(doc).contains(dev.bulwark.core.state.StateTrie.EMPTY_ROOT.hex());
  }
}
