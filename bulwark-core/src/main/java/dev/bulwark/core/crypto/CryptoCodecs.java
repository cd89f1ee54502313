package dev.bulwark.core.crypto;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.DecodeException.Reason;
import dev.bulwark.core.codec.Decoder;
import dev.bulwark.core.codec.Encoder;
import dev.bulwark.core.codec.KeyCodec;
import dev.bulwark.core.codec.TypeDescription;
import dev.bulwark.core.codec.TypeDescription.Primitive;

/**
 * Codecs for keys and signatures inside records that get signed or stored (receipts, heads,
 * membership), so that no one writes them as untyped bytes. Both are their raw RFC 8032 bytes
 * with no length prefix. Decoding a public key validates the point, as {@link PublicKey#of}
 * does (about half a verification's work), and reports a bad one as
 * {@link Reason#INVALID_VALUE}.
 */
public final class CryptoCodecs {
  private CryptoCodecs() {}

  private static final KeyCodec<PublicKey> PUBLIC_KEY = new KeyCodec<>() {
    @Override public TypeDescription type() { return new Primitive("ed25519-public-key"); }
    @Override public void encode(PublicKey v, Encoder out) { out.writeBytes(v.bytes()); }
    @Override public PublicKey decode(Decoder in) {
      int start = in.position();
      Bytes raw = Bytes.adopt(in.readBytes(PublicKey.LENGTH));
      try {
        return PublicKey.of(raw);
      } catch (KeyFormatException e) {
        throw in.errorAt(Reason.INVALID_VALUE, start, e.getMessage());
      }
    }
  };

  /** The same bytes and type as {@link #PUBLIC_KEY}; decodes with {@link PublicKey#ofStored}. */
  private static final KeyCodec<PublicKey> STORED_PUBLIC_KEY = new KeyCodec<>() {
    @Override public TypeDescription type() { return PUBLIC_KEY.type(); }
    @Override public void encode(PublicKey v, Encoder out) { out.writeBytes(v.bytes()); }
    @Override public PublicKey decode(Decoder in) {
      return PublicKey.ofStored(Bytes.adopt(in.readBytes(PublicKey.LENGTH)));
    }
  };

  private static final Codec<Signature> SIGNATURE = new Codec<>() {
    @Override public TypeDescription type() { return new Primitive("ed25519-signature"); }
    @Override public void encode(Signature v, Encoder out) { out.writeBytes(v.bytes()); }
    @Override public Signature decode(Decoder in) { return new Signature(Bytes.adopt(in.readBytes(Signature.LENGTH))); }
  };

  /** 32 bytes; ordered like {@link PublicKey#compareTo}, so usable in keys. */
  public static KeyCodec<PublicKey> publicKey() { return PUBLIC_KEY; }

  /**
   * {@link #publicKey()} for keys read back from state that they entered through a validating
   * decode (an account's owner): the same bytes, the point checked only when the key first
   * verifies something ({@link PublicKey#ofStored}). Never for a request, a file or a peer.
   */
  public static KeyCodec<PublicKey> storedPublicKey() { return STORED_PUBLIC_KEY; }

  /** 64 bytes. */
  public static Codec<Signature> signature() { return SIGNATURE; }
}
