package dev.bulwark.core.crypto;

import dev.bulwark.core.Bytes;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * What a signature is for. One key signs several kinds of thing (receipts, log heads, ...);
 * if they were signed as bare payloads, a signature over a receipt whose bytes happened to
 * parse as a head would be a valid head signature. So every signed message is
 * {@code tag || 0x00 || payload}: the tag is printable ASCII and holds no 0x00, so the first
 * 0x00 ends it, and two messages with different tags can never be equal.
 *
 * <p>Tags are fixed strings in the code that signs, named with a version, for example
 * {@code "bulwark/receipt/v1"}.
 */
public record SignatureDomain(String tag) {
  /** Tags are names, not data. */
  public static final int TAG_LENGTH_MAX = 64;

  public SignatureDomain {
    Objects.requireNonNull(tag, "tag");
    if (tag.isEmpty() || tag.length() > TAG_LENGTH_MAX) {
      throw new IllegalArgumentException(
          "a signature domain tag has 1 to " + TAG_LENGTH_MAX + " characters, not " + tag.length());
    }
    for (int i = 0; i < tag.length(); i++) {
      char c = tag.charAt(i);
      if (c < 0x21 || c > 0x7E) {
        throw new IllegalArgumentException("a signature domain tag is printable ASCII without spaces; '"
            + tag + "' has character " + (int) c + " at index " + i);
      }
    }
  }

  /** The bytes that are actually signed: the tag in ASCII, one 0x00, then {@code payload}. */
  public Bytes message(Bytes payload) {
    byte[] tagBytes = tag.getBytes(StandardCharsets.US_ASCII);
    byte[] message = new byte[tagBytes.length + 1 + payload.length()];
    System.arraycopy(tagBytes, 0, message, 0, tagBytes.length);
    // message[tagBytes.length] is already 0x00.
    System.arraycopy(payload.unsafeArray(), 0, message, tagBytes.length + 1, payload.length());
    return Bytes.adopt(message);
  }
}
