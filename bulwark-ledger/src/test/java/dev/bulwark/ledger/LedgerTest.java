package dev.bulwark.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.app.ApplyContext;
import dev.bulwark.core.app.Check;
import dev.bulwark.core.app.Origin;
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
      assertThat(ledger.validate(r, Origin.PUBLIC)).isEqualTo(Check.OK);
      index++;
      return tx.inSavepoint(() -> ledger.apply(r, this));
    }
  }

  @Test
  void pureValidationChecksShapeAuthorityAndSignature() {
    assertThat(ledger.validate(LedgerRequest.sign(new LedgerOp.Deposit("alice", 5, Bytes.utf8("r")), ALICE), Origin.PUBLIC))
        .isEqualTo(Check.reject("NOT_AUTHORIZED", "deposits and withdrawals are signed by the operator's admin key"));
    assertThat(ledger.validate(LedgerRequest.sign(new LedgerOp.OpenAccount("Alice!", ALICE.publicKey()), ALICE), Origin.PUBLIC))
        .isInstanceOf(Check.Rejected.class);
    assertThat(ledger.validate(LedgerRequest.sign(new LedgerOp.OpenAccount("alice", ALICE.publicKey()), BOB), Origin.PUBLIC))
        .isEqualTo(Check.reject("NOT_AUTHORIZED", "an account is opened by its owner's key"));
    assertThat(ledger.validate(LedgerRequest.sign(new LedgerOp.Transfer("alice", "alice", 1, 1), ALICE), Origin.PUBLIC))
        .isEqualTo(Check.reject("SAME_ACCOUNT", "a transfer needs two different accounts"));
    assertThat(ledger.validate(LedgerRequest.sign(new LedgerOp.Deposit("alice", 0, Bytes.utf8("r")), ADMIN), Origin.PUBLIC))
        .isInstanceOf(Check.Rejected.class);
    LedgerRequest good = LedgerRequest.sign(new LedgerOp.Transfer("alice", "bob", 1, 1), ALICE);
    LedgerRequest forged = new LedgerRequest(good.op(),
        new LedgerRequest.Signed(BOB.publicKey(), ((LedgerRequest.Signed) good.authority()).signature()));
    assertThat(ledger.validate(forged, Origin.PUBLIC)).isEqualTo(Check.reject("BAD_SIGNATURE", "the signature does not verify"));
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
  void unsignedTransfersPassOnlyFromTheGatewayConnectionTheyName() {
    LedgerRequest unsigned = LedgerRequest.viaGateway(new LedgerOp.Transfer("alice", "bob", 5, 1), "gw-1");
    assertThat(ledger.validate(unsigned, new Origin.Gateway("gw-1"))).isEqualTo(Check.OK);
    assertThat(ledger.validate(unsigned, Origin.PUBLIC)).isEqualTo(Check.reject("NOT_AUTHORIZED",
        "unsigned transfers are accepted only from a connection with a gateway certificate"));
    assertThat(ledger.validate(unsigned, new Origin.Gateway("gw-2"))).isEqualTo(Check.reject("NOT_AUTHORIZED",
        "this connection is gateway 'gw-2', not 'gw-1'"));
    LedgerRequest unsignedDeposit = new LedgerRequest(new LedgerOp.Deposit("alice", 5, Bytes.utf8("r")),
        new LedgerRequest.Gateway("gw-1"));
    assertThat(ledger.validate(unsignedDeposit, new Origin.Gateway("gw-1"))).isEqualTo(Check.reject("NOT_AUTHORIZED",
        "only transfers may be sent unsigned by a gateway"));
    // A gateway connection gives no power over signed requests: their signatures still count.
    LedgerRequest good = LedgerRequest.sign(new LedgerOp.Transfer("alice", "bob", 1, 1), ALICE);
    LedgerRequest forged = new LedgerRequest(good.op(),
        new LedgerRequest.Signed(BOB.publicKey(), ((LedgerRequest.Signed) good.authority()).signature()));
    assertThat(ledger.validate(forged, new Origin.Gateway("gw-1"))).isInstanceOf(Check.Rejected.class);
  }

  @Test
  void aGatewayTransferMovesFundsWithTheNextNonceAndIsStoredWithTheGatewaysName() {
    Context ctx = new Context();
    ctx.apply(new LedgerOp.OpenAccount("alice", ALICE.publicKey()), ALICE);
    ctx.apply(new LedgerOp.OpenAccount("bob", BOB.publicKey()), BOB);
    ctx.apply(new LedgerOp.Deposit("alice", 100, Bytes.utf8("ref-1")), ADMIN);
    LedgerRequest unsigned = LedgerRequest.viaGateway(new LedgerOp.Transfer("alice", "bob", 40, 1), "gw-1");
    assertThat(ctx.tx.inSavepoint(() -> ledger.apply(unsigned, ctx))).isEqualTo(new LedgerResult("alice", 60, 1));
    assertThat(ctx.get(Ledger.ACCOUNTS, "bob").orElseThrow().balance()).isEqualTo(40);
    assertThat(Ledger.OPERATIONS.get(ctx.tx, Ledger.OPERATIONS.keyOf(unsigned))).contains(unsigned);
    LedgerRequest replayed = LedgerRequest.viaGateway(new LedgerOp.Transfer("alice", "bob", 40, 1), "gw-1");
    assertThatThrownBy(() -> ctx.tx.inSavepoint(() -> ledger.apply(replayed, ctx)))
        .isInstanceOf(Rejection.class).hasMessageContaining("nonce 2");
  }

  @Test
  void requestsSurviveTheirCanonicalEncoding() {
    LedgerRequest viaGateway = LedgerRequest.viaGateway(new LedgerOp.Transfer("alice", "bob", 1, 3), "gw-1");
    assertThat(LedgerRequest.CODEC.decode(LedgerRequest.CODEC.encode(viaGateway))).isEqualTo(viaGateway);
    LedgerRequest r = LedgerRequest.sign(new LedgerOp.Withdraw("bob", 10, Bytes.utf8("ref")), ADMIN);
    assertThat(LedgerRequest.CODEC.decode(LedgerRequest.CODEC.encode(r))).isEqualTo(r);
    assertThatThrownBy(() -> new Account(ALICE.publicKey(), -1, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
