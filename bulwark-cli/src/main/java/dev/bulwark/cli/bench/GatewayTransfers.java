package dev.bulwark.cli.bench;

import dev.bulwark.core.Bytes;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;
import java.util.Objects;

/** Unsigned transfers, sent by trusted gateway {@code gateway} over a connection with its certificate. */
public record GatewayTransfers(String gateway) implements TransferSource {
  public GatewayTransfers {
    Objects.requireNonNull(gateway);
  }

  @Override
  public String name() {
    return "unsigned (gateway " + gateway + ")";
  }

  @Override
  public Bytes transfer(BenchAccount from, String to, long amount, long nonce) {
    return LedgerRequest.CODEC.encode(LedgerRequest.viaGateway(new LedgerOp.Transfer(from.name(), to, amount, nonce), gateway));
  }
}
