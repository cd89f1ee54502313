package dev.bulwark.ledger;

import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.crypto.CryptoCodecs;
import dev.bulwark.core.crypto.PublicKey;
import java.util.Objects;

/**
 * One account: whose key may move its funds, its balance, and the nonce of its last transfer
 * (the next transfer must carry nonce + 1, so a signed transfer cannot be replayed).
 */
public record Account(PublicKey owner, long balance, long nonce) {
  public static final Codec<Account> CODEC = Codecs.record("ledger.Account",
      // Read with every access to the account, mostly to compare with a request's signer; the
      // key was validated when the request that opened the account was decoded.
      Codecs.field("owner", CryptoCodecs.storedPublicKey(), Account::owner),
      Codecs.field("balance", Codecs.varU64(), Account::balance),
      Codecs.field("nonce", Codecs.varU64(), Account::nonce),
      Account::new);

  public Account {
    Objects.requireNonNull(owner);
    if (balance < 0) {
      throw new IllegalArgumentException("a balance is never negative: " + balance);
    }
    if (nonce < 0) {
      throw new IllegalArgumentException("a nonce is never negative: " + nonce);
    }
  }
}
