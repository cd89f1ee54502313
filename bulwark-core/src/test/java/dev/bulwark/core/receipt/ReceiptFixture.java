package dev.bulwark.core.receipt;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.merkle.MerkleLog;
import dev.bulwark.core.merkle.MerkleLogState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * An operator in miniature, in memory: batches of confirmations appended to a Merkle log,
 * each batch closed by a signed head chained to the previous one.
 */
final class ReceiptFixture {
  /** RFC 8032 section 7.1 TEST 1 secret key: a public, well-known key for examples. */
  static final Bytes RFC8032_TEST1_SEED =
      Bytes.fromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");

  static final ReadView EMPTY = new ReadView() {
    @Override public Optional<Bytes> get(Bytes key) {
      return Optional.empty();
    }

    @Override public Cursor scan(KeyRange range) {
      return Cursor.of(Collections.emptyIterator());
    }
  };

  final String operatorId;
  final SigningKey key;
  final MerkleLog log = new MerkleLog("confirmations");
  final Transaction store = new Transaction(EMPTY); // reads its own writes: a store in memory
  MerkleLogState state = MerkleLogState.EMPTY;
  final List<SignedBatchHead> heads = new ArrayList<>();
  final List<Receipt.PerBatch> receipts = new ArrayList<>();

  ReceiptFixture(String operatorId, SigningKey key) {
    this.operatorId = operatorId;
    this.key = key;
  }

  static Digest digestOf(String text) {
    return Digest.sha256(Bytes.utf8(text));
  }

  /** Closes a batch of {@code requests} confirmations; returns its signed head. */
  SignedBatchHead batch(int requests, long timeMs) {
    long batchNumber = heads.size();
    long firstLeaf = state.size();
    List<Confirmation> confirmations = new ArrayList<>();
    List<Digest> leaves = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      Confirmation c = new Confirmation(operatorId, digestOf("request " + batchNumber + "/" + i), batchNumber, i,
          digestOf("result " + batchNumber + "/" + i));
      confirmations.add(c);
      leaves.add(c.leafHash());
    }
    state = log.append(store, state, leaves);
    Digest previous = heads.isEmpty() ? BatchHead.ZERO : heads.getLast().head().hash();
    BatchHead head = new BatchHead(operatorId, batchNumber, state.size(), state.root(), BatchHead.ZERO, previous, timeMs);
    SignedBatchHead signed = SignedBatchHead.sign(head, key);
    heads.add(signed);
    for (int i = 0; i < requests; i++) {
      receipts.add(new Receipt.PerBatch(confirmations.get(i), signed,
          log.inclusionProof(store, firstLeaf + i, state.size())));
    }
    return signed;
  }
}
