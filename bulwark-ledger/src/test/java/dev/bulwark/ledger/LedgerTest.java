package dev.bulwark.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.app.ApplyContext;
import dev.bulwark.core.app.Check;
import dev.bulwark.core.app.Rejection;
import dev.bulwark.core.app.StateMirror;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.state.AuthenticatedMap;
import java.util.Collections;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The ledger's rules, stage by stage, without the engine. */
class LedgerTest {
  static final SigningKey ADMIN = SigningKey.generate(new SplittableRandom(1));
  static final SigningKey ALICE = SigningKey.generate(new SplittableRandom(2));
  static final SigningKey BOB = SigningKey.generate(new SplittableRandom(3));
  final Ledger ledger = new Ledger(ADMIN.publicKey());

  static final ReadView EMPTY = new ReadView() {
    @Override public Optional<Bytes> get(Bytes key) {
      return Optional.empty();
    }

    @Override public Cursor scan(KeyRange range) {
      return Cursor.of(Collections.emptyIterator());
    }
  };

  /** Applies requests in one transaction, as the sequencer would, each in a savepoint. */
  final class Context implements ApplyContext {
    final Transaction tx = new Transaction(EMPTY);
    int index;

    @Override public <K, V> Optional<V> get(AuthenticatedMap<K, V> map, K key) {
      return StateMirror.get(tx, map, key);
    }

    @Override public ReadView view() {
      return tx;
    }

    @Override public <K, V> void put(AuthenticatedMap<K, V> map, K key, V value) {
      StateMirror.put(tx, map, key, value);
    }

    @Override public <K, V> void delete(AuthenticatedMap<K, V> map, K key) {
      StateMirror.delete(tx, map, key);
    }

    @Override public Transaction transaction() {
      return tx;
    }

    @Override public long batchNumber() {
      return 7;
    }

    @Override public int indexInBatch() {
      return index;
    }

    @Override public long batchTimeMs() {
      return 0;
    }

    LedgerResult apply(LedgerOp op, SigningKey key) {
      LedgerRequest r = LedgerRequest.sign(op, key);
      assertThat(ledger.validate(r)).isEqualTo(Check.OK);
      index++;
      return tx.inSavepoint(() -> ledger.apply(r, this));
    }
  }

  @Test
  void pureValidationChecksShapeAuthorityAndSignature() {
    assertThat(ledger.validate(LedgerRequest.sign(new LedgerOp.Deposit("alice", 5, Bytes.utf8("r")), ALICE)))
        .isEqualTo(Check.reject("NOT_AUTHORIZED", "deposits and withdrawals are signed by the operator's admin key"));
    assertThat(ledger.validate(LedgerRequest.sign(new LedgerOp.OpenAccount("Alice!", ALICE.publicKey()), ALICE)))
        .isInstanceOf(Check.Rejected.class);
    assertThat(ledger.validate(LedgerRequest.sign(new LedgerOp.OpenAccount("alice", ALICE.publicKey()), BOB)))
        .isEqualTo(Check.reject("NOT_AUTHORIZED", "an account is opened by its owner's key"));
    assertThat(ledger.validate(LedgerRequest.sign(new LedgerOp.Transfer("alice", "alice", 1, 1), ALICE)))
        .isEqualTo(Check.reject("SAME_ACCOUNT", "a transfer needs two different accounts"));
    assertThat(ledger.validate(LedgerRequest.sign(new LedgerOp.Deposit("alice", 0, Bytes.utf8("r")), ADMIN)))
        .isInstanceOf(Check.Rejected.class);
    LedgerRequest good = LedgerRequest.sign(new LedgerOp.Transfer("alice", "bob", 1, 1), ALICE);
    LedgerRequest forged = new LedgerRequest(good.op(), BOB.publicKey(), good.signature());
    assertThat(ledger.validate(forged)).isEqualTo(Check.reject("BAD_SIGNATURE", "the signature does not verify"));
  }

  @Test
  void transfersMoveMoneyOnlyWithTheOwnersKeyTheNextNonceAndEnoughFunds() {
    Context ctx = new Context();
    ctx.apply(new LedgerOp.OpenAccount("alice", ALICE.publicKey()), ALICE);
    ctx.apply(new LedgerOp.OpenAccount("bob", BOB.publicKey()), BOB);
    ctx.apply(new LedgerOp.Deposit("alice", 100, Bytes.utf8("ref-1")), ADMIN);
    assertThat(ctx.apply(new LedgerOp.Transfer("alice", "bob", 30, 1), ALICE)).isEqualTo(new LedgerResult("alice", 70, 1));
    assertThatThrownBy(() -> ctx.apply(new LedgerOp.Transfer("alice", "bob", 30, 1), ALICE))
        .isInstanceOf(Rejection.class).hasMessageContaining("nonce 2");
    assertThatThrownBy(() -> ctx.apply(new LedgerOp.Transfer("alice", "bob", 71, 2), ALICE))
        .isInstanceOf(Rejection.class).hasMessageContaining("has 70");
    assertThatThrownBy(() -> ctx.apply(new LedgerOp.Transfer("alice", "bob", 1, 2), BOB))
        .isInstanceOf(Rejection.class).hasMessageContaining("signed by its owner's key");
    assertThatThrownBy(() -> ctx.apply(new LedgerOp.Deposit("bob", 5, Bytes.utf8("ref-1")), ADMIN))
        .isInstanceOf(Rejection.class).satisfies(e -> assertThat(((Rejection) e).code()).isEqualTo("DUPLICATE_REFERENCE"));
    assertThatThrownBy(() -> ctx.apply(new LedgerOp.OpenAccount("bob", ALICE.publicKey()), ALICE))
        .isInstanceOf(Rejection.class).satisfies(e -> assertThat(((Rejection) e).code()).isEqualTo("ACCOUNT_EXISTS"));
    ctx.apply(new LedgerOp.Withdraw("bob", 10, Bytes.utf8("ref-2")), ADMIN);
    // Rejected requests left nothing behind: the numbers add up.
    assertThat(ctx.get(Ledger.ACCOUNTS, "alice").orElseThrow()).isEqualTo(new Account(ALICE.publicKey(), 70, 1));
    assertThat(ctx.get(Ledger.ACCOUNTS, "bob").orElseThrow()).isEqualTo(new Account(BOB.publicKey(), 20, 0));
    assertThat(ctx.get(Ledger.SUPPLY, Ledger.SUPPLY_KEY)).contains(90L);
  }

  @Test
  void requestsSurviveTheirCanonicalEncoding() {
    LedgerRequest r = LedgerRequest.sign(new LedgerOp.Withdraw("bob", 10, Bytes.utf8("ref")), ADMIN);
    assertThat(LedgerRequest.CODEC.decode(LedgerRequest.CODEC.encode(r))).isEqualTo(r);
    assertThatThrownBy(() -> new Account(ALICE.publicKey(), -1, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
