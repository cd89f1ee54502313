package dev.bulwark.core.protocol;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;

/**
 * What happened to a request the sequencer took: applied with this result, or refused by the
 * application against the current state. Both are confirmed; the confirmation's result digest
 * is the SHA-256 of this envelope's encoding, so a client can check the result it was given.
 */
public sealed interface ResultEnvelope {
  record Applied(Bytes result) implements ResultEnvelope {}

  record Refused(String code, String message) implements ResultEnvelope {}

  Codec<ResultEnvelope> CODEC = Codecs.union("bulwark.Result", ResultEnvelope.class,
      Codecs.variant(0, "Applied", Applied.class, Codecs.record("bulwark.Result.Applied",
          Codecs.field("result", Codecs.bytes(), Applied::result), Applied::new)),
      Codecs.variant(1, "Refused", Refused.class, Codecs.record("bulwark.Result.Refused",
          Codecs.field("code", Codecs.utf8(), Refused::code),
          Codecs.field("message", Codecs.utf8(), Refused::message), Refused::new)));

  default Digest digest() {
    return Digest.sha256(CODEC.encode(this));
  }
}
