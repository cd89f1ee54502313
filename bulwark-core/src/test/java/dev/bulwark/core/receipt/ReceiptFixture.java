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
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.state.AuthenticatedMap;
import dev.bulwark.core.state.NodeLoader;
import dev.bulwark.core.state.StateEntryProof;
import dev.bulwark.core.state.StateNode;
import dev.bulwark.core.state.StateTrie;
import dev.bulwark.core.state.StateUpdate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
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
  /** The authenticated state: one balance per user, each request credits its user. */
  static final AuthenticatedMap<String, Long> BALANCES = new AuthenticatedMap<>("balance", Codecs.utf8(), Codecs.i64());
  final Map<Digest, StateNode> stateNodes = new HashMap<>();
  final NodeLoader stateLoader = ref -> Objects.requireNonNull(stateNodes.get(ref.hash()), "missing state node");
  final Map<String, Long> balances = new TreeMap<>();
  Digest stateRoot = StateTrie.EMPTY_ROOT;

  ReceiptFixture(String operatorId, SigningKey key) {
    this.operatorId = operatorId;
    this.key = key;
  }

  static String user(int index) {
    return List.of("alice", "bob", "carol").get(index % 3);
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
    List<StateUpdate> updates = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      String user = user(i);
      long balance = balances.merge(user, 10L * (batchNumber + 1), Long::sum);
      updates.add(BALANCES.put(user, balance));
    }
    stateRoot = StateTrie.update(stateLoader, stateRoot, batchNumber, updates, (ref, node) -> stateNodes.put(node.hash(), node)).root();
    Digest previous = heads.isEmpty() ? BatchHead.ZERO : heads.getLast().head().hash();
    BatchHead head = new BatchHead(operatorId, batchNumber, state.size(), state.root(), stateRoot, previous, timeMs);
    SignedBatchHead signed = SignedBatchHead.sign(head, key);
    heads.add(signed);
    for (int i = 0; i < requests; i++) {
      StateEntryProof balance = StateEntryProof.of(stateLoader, stateRoot, BALANCES.keyBytes(user(i)));
      receipts.add(new Receipt.PerBatch(confirmations.get(i), signed,
          log.inclusionProof(store, firstLeaf + i, state.size()), List.of(balance)));
    }
    return signed;
  }
}
