package dev.bulwark.ledger;

import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.crypto.CryptoCodecs;
import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.crypto.Signature;
import dev.bulwark.core.crypto.SignatureDomain;
import dev.bulwark.core.crypto.SigningKey;
import java.util.Objects;

/** A ledger operation with the key that signed it and the signature. */
public record LedgerRequest(LedgerOp op, PublicKey signer, Signature signature) {
  /** Ledger requests are signed under this domain, so no other signature passes for one. */
  public static final SignatureDomain DOMAIN = new SignatureDomain("bulwark/ledger-request/v1");

  public static final Codec<LedgerRequest> CODEC = Codecs.record("ledger.Request",
      Codecs.field("op", LedgerOp.CODEC, LedgerRequest::op),
      Codecs.field("signer", CryptoCodecs.publicKey(), LedgerRequest::signer),
      Codecs.field("signature", CryptoCodecs.signature(), LedgerRequest::signature),
      LedgerRequest::new);

  public LedgerRequest {
    Objects.requireNonNull(op);
    Objects.requireNonNull(signer);
    Objects.requireNonNull(signature);
  }

  public static LedgerRequest sign(LedgerOp op, SigningKey key) {
    return new LedgerRequest(op, key.publicKey(), key.sign(DOMAIN, LedgerOp.CODEC.encode(op)));
  }

  public boolean signatureValid() {
    return signer.verify(DOMAIN, LedgerOp.CODEC.encode(op), signature);
  }
}
