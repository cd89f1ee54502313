package dev.bulwark.core.receipt;

import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.crypto.CryptoCodecs;
import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.crypto.Signature;
import dev.bulwark.core.crypto.SigningKey;
import java.util.Objects;

/** A batch head with the operator's Ed25519 signature over its domain-tagged encoding. */
public record SignedBatchHead(BatchHead head, Signature signature) {
  public static final Codec<SignedBatchHead> CODEC = Codecs.record("bulwark.SignedBatchHead",
      Codecs.field("head", BatchHead.CODEC, SignedBatchHead::head),
      Codecs.field("signature", CryptoCodecs.signature(), SignedBatchHead::signature),
      SignedBatchHead::new);

  public SignedBatchHead {
    Objects.requireNonNull(head);
    Objects.requireNonNull(signature);
  }

  public static SignedBatchHead sign(BatchHead head, SigningKey operatorKey) {
    return new SignedBatchHead(head, operatorKey.sign(BatchHead.DOMAIN, BatchHead.CODEC.encode(head)));
  }

  public boolean verify(PublicKey operatorKey) {
    return operatorKey.verify(BatchHead.DOMAIN, BatchHead.CODEC.encode(head), signature);
  }
}
