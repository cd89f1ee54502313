package dev.bulwark.core.crypto;

import dev.bulwark.core.Bytes;
import java.util.Objects;

/**
 * An Ed25519 signature: exactly 64 bytes (R then S, as RFC 8032 encodes them). Only the
 * length is checked here; whether it is a valid signature is for {@link PublicKey#verify}.
 */
public record Signature(Bytes bytes) {
  public static final int LENGTH = 64;

  public Signature {
    Objects.requireNonNull(bytes, "bytes");
    if (bytes.length() != LENGTH) {
      throw new IllegalArgumentException("an Ed25519 signature has 64 bytes, not " + bytes.length());
    }
  }

  /** Parses 128 hex digits. */
  public static Signature fromHex(String hex) {
    if (hex.length() != 2 * LENGTH) {
      throw new IllegalArgumentException("an Ed25519 signature is 128 hex digits, not " + hex.length());
    }
    return new Signature(Bytes.fromHex(hex));
  }

  public String hex() {
    return bytes.hex();
  }

  @Override
  public String toString() {
    return "Signature[" + bytes.hex() + "]";
  }
}
