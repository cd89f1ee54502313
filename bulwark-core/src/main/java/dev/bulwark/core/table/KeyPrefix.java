package dev.bulwark.core.table;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.Encoder;
import dev.bulwark.core.codec.KeyCodec;

/**
 * The leading fields of an intent key, for scanning every key that starts with them (all
 * revisions of one address, say). Key records encode as the concatenation of their fields,
 * so the prefix is the concatenation of the leading fields' encodings.
 */
public record KeyPrefix(Bytes bytes) {
  public static final KeyPrefix NONE = new KeyPrefix(Bytes.EMPTY);

  public <F> KeyPrefix then(KeyCodec<F> fieldCodec, F value) {
    Encoder out = new Encoder();
    out.writeBytes(bytes);
    fieldCodec.encode(value, out);
    return new KeyPrefix(out.toBytes());
  }

  public static <F> KeyPrefix of(KeyCodec<F> fieldCodec, F value) {
    return NONE.then(fieldCodec, value);
  }
}
