package dev.bulwark.core.table;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import java.util.Objects;

/** Table id + SHA-256 of the value's canonical bytes: immutable, equal values share one key. */
public record ContentKey(TableId table, Digest digest) {
  public static final int LENGTH = TableId.LENGTH + Digest.LENGTH;

  public ContentKey {
    Objects.requireNonNull(table);
    Objects.requireNonNull(digest);
  }

  /** The 40 bytes stored in the key-value store. */
  public Bytes toBytes() {
    byte[] out = new byte[LENGTH];
    System.arraycopy(table.toByteArray(), 0, out, 0, TableId.LENGTH);
    System.arraycopy(digest.unsafeArray(), 0, out, TableId.LENGTH, Digest.LENGTH);
    return Bytes.adopt(out);
  }

  public static ContentKey fromBytes(Bytes key) {
    if (key.length() != LENGTH) {
      throw new IllegalArgumentException("a content key has " + LENGTH + " bytes, not " + key.length());
    }
    return new ContentKey(TableId.read(key), Digest.of(key.slice(TableId.LENGTH, LENGTH)));
  }

  @Override
  public String toString() {
    return table.hex() + ":" + digest.hex();
  }
}
