package dev.bulwark.cli.bench;

import dev.bulwark.core.Bytes;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;

/** Transfers signed by the source account's owner, as any client of the ledger sends them. */
public record SignedTransfers() implements TransferSource {
  @Override
  public String name() {
    return "signed";
  }

  @Override
  public Bytes transfer(BenchAccount from, String to, long amount, long nonce) {
    return LedgerRequest.CODEC.encode(LedgerRequest.sign(new LedgerOp.Transfer(from.name(), to, amount, nonce), from.owner()));
  }
}
