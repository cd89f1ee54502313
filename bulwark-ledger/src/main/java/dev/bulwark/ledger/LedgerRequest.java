package dev.bulwark.ledger;

import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.crypto.CryptoCodecs;
import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.crypto.Signature;
import dev.bulwark.core.crypto.SignatureDomain;
import dev.bulwark.core.crypto.SigningKey;
import java.util.Objects;

/**
 * A ledger operation with what authorises it: the signature of the key the operation needs
 * (the owner's, or the admin's), or, for transfers only, the name of the trusted gateway that
 * sends it unsigned. The ledger accepts a gateway transfer only from a connection that proved
 * with a gateway certificate that it is that gateway; the stored operation keeps the name, so
 * the history shows which gateway moved the funds.
 */
public record LedgerRequest(LedgerOp op, Authority authority) {
  /** Ledger requests are signed under this domain, so no other signature passes for one. */
  public static final SignatureDomain DOMAIN = new SignatureDomain("bulwark/ledger-request/v1");

  /** Who vouches for the operation. */
  public sealed interface Authority {}

  /** Signed by {@code signer} over the operation's canonical bytes. */
  public record Signed(PublicKey signer, Signature signature) implements Authority {
    public Signed {
      Objects.requireNonNull(signer);
      Objects.requireNonNull(signature);
    }
  }

  /** Unsigned, sent by the trusted gateway {@code name}. */
  public record Gateway(String name) implements Authority {
    public Gateway {
      Objects.requireNonNull(name);
    }
  }

  static final Codec<Authority> AUTHORITY = Codecs.union("ledger.Authority", Authority.class,
      Codecs.variant(0, "Signed", Signed.class, Codecs.record("ledger.Signed",
          Codecs.field("signer", CryptoCodecs.publicKey(), Signed::signer),
          Codecs.field("signature", CryptoCodecs.signature(), Signed::signature),
          Signed::new)),
      Codecs.variant(1, "Gateway", Gateway.class, Codecs.record("ledger.Gateway",
          Codecs.field("name", Codecs.utf8(), Gateway::name), Gateway::new)));

  public static final Codec<LedgerRequest> CODEC = Codecs.record("ledger.Request",
      Codecs.field("op", LedgerOp.CODEC, LedgerRequest::op),
      Codecs.field("authority", AUTHORITY, LedgerRequest::authority),
      LedgerRequest::new);

  public LedgerRequest {
    Objects.requireNonNull(op);
    Objects.requireNonNull(authority);
  }

  public static LedgerRequest sign(LedgerOp op, SigningKey key) {
    return new LedgerRequest(op, new Signed(key.publicKey(), key.sign(DOMAIN, LedgerOp.CODEC.encode(op))));
  }

  /** An unsigned transfer, for a gateway connection to send. */
  public static LedgerRequest viaGateway(LedgerOp.Transfer transfer, String gateway) {
    return new LedgerRequest(transfer, new Gateway(gateway));
  }

  /** True if signed and the signature verifies; false for gateway requests. */
  public boolean signatureValid() {
    return authority instanceof Signed s && s.signer().verify(DOMAIN, LedgerOp.CODEC.encode(op), s.signature());
  }

  /** Whether {@code key} signed this request (a valid signature is checked separately). */
  public boolean signedBy(PublicKey key) {
    return authority instanceof Signed s && s.signer().equals(key);
  }
}
