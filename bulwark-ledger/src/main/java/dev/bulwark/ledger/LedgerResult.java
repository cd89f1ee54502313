package dev.bulwark.ledger;

import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;

/** The state of the request's primary account after it was applied (the source, for a transfer). */
public record LedgerResult(String account, long balance, long nonce) {
  public static final Codec<LedgerResult> CODEC = Codecs.record("ledger.Result",
      Codecs.field("account", Codecs.utf8(), LedgerResult::account),
      Codecs.field("balance", Codecs.varU64(), LedgerResult::balance),
      Codecs.field("nonce", Codecs.varU64(), LedgerResult::nonce),
      LedgerResult::new);
}
