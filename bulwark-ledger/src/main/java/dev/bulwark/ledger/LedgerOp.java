package dev.bulwark.ledger;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.crypto.CryptoCodecs;
import dev.bulwark.core.crypto.PublicKey;

/**
 * What a ledger request asks for, before it is signed. Opening an account is signed by its
 * owner, a transfer by the owner of the source account, deposits and withdrawals by the
 * operator's admin key; each admin operation carries a unique reference so that a signed
 * deposit can be applied once only, whoever submits it.
 */
public sealed interface LedgerOp {
  record OpenAccount(String account, PublicKey owner) implements LedgerOp {}

  record Deposit(String account, long amount, Bytes reference) implements LedgerOp {}

  record Withdraw(String account, long amount, Bytes reference) implements LedgerOp {}

  record Transfer(String from, String to, long amount, long nonce) implements LedgerOp {}

  Codec<LedgerOp> CODEC = Codecs.union("ledger.Op", LedgerOp.class,
      Codecs.variant(0, "OpenAccount", OpenAccount.class, Codecs.record("ledger.OpenAccount",
          Codecs.field("account", Codecs.utf8(), OpenAccount::account),
          Codecs.field("owner", CryptoCodecs.publicKey(), OpenAccount::owner),
          OpenAccount::new)),
      Codecs.variant(1, "Deposit", Deposit.class, Codecs.record("ledger.Deposit",
          Codecs.field("account", Codecs.utf8(), Deposit::account),
          Codecs.field("amount", Codecs.varU64(), Deposit::amount),
          Codecs.field("reference", Codecs.bytes(), Deposit::reference),
          Deposit::new)),
      Codecs.variant(2, "Withdraw", Withdraw.class, Codecs.record("ledger.Withdraw",
          Codecs.field("account", Codecs.utf8(), Withdraw::account),
          Codecs.field("amount", Codecs.varU64(), Withdraw::amount),
          Codecs.field("reference", Codecs.bytes(), Withdraw::reference),
          Withdraw::new)),
      Codecs.variant(3, "Transfer", Transfer.class, Codecs.record("ledger.Transfer",
          Codecs.field("from", Codecs.utf8(), Transfer::from),
          Codecs.field("to", Codecs.utf8(), Transfer::to),
          Codecs.field("amount", Codecs.varU64(), Transfer::amount),
          Codecs.field("nonce", Codecs.varU64(), Transfer::nonce),
          Transfer::new)));

  /** The account whose state the result reports. */
  default String primaryAccount() {
    return switch (this) {
      case OpenAccount o -> o.account();
      case Deposit d -> d.account();
      case Withdraw w -> w.account();
      case Transfer t -> t.from();
    };
  }
}
