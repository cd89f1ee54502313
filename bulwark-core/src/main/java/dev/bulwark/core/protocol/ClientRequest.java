package dev.bulwark.core.protocol;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import java.util.Objects;

/**
 * A request as a client sends it: who sends it, its place in that client's sequence, and the
 * application request's canonical bytes. (client id, sequence) makes a retry recognisable, so
 * it is answered with the original confirmation and never applied twice.
 */
public record ClientRequest(Bytes clientId, long sequence, Bytes payload) {
  public static final int CLIENT_ID_BYTES_MAX = 64;

  public static final Codec<ClientRequest> CODEC = Codecs.record("bulwark.ClientRequest",
      Codecs.field("clientId", Codecs.bytes(), ClientRequest::clientId),
      Codecs.field("sequence", Codecs.varU64(), ClientRequest::sequence),
      Codecs.field("payload", Codecs.bytes(), ClientRequest::payload),
      ClientRequest::new);

  public ClientRequest {
    Objects.requireNonNull(clientId);
    Objects.requireNonNull(payload);
    if (clientId.isEmpty() || clientId.length() > CLIENT_ID_BYTES_MAX) {
      throw new IllegalArgumentException("a client id has 1 to " + CLIENT_ID_BYTES_MAX + " bytes");
    }
    if (sequence < 1) {
      throw new IllegalArgumentException("request sequence numbers start at 1");
    }
  }

  /** What the confirmation's request digest commits to. */
  public Digest digest() {
    return Digest.sha256(CODEC.encode(this));
  }
}
