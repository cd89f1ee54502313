package dev.bulwark.core.table;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Eight bytes that name a table in every key: the first eight bytes of a SHA-256 over the
 * table's kind, name, version and type descriptions. A changed type is a different id, so
 * old bytes are never decoded with a new codec. Id 0 is reserved for the meta table.
 */
public record TableId(long value) implements Comparable<TableId> {
  public static final int LENGTH = 8;
  /** The meta table, which maps every other table id to its description. */
  public static final TableId META = new TableId(0);

  /** Derives the id of a table from its canonical description text. */
  public static TableId derive(String canonicalDescription) {
    MessageDigest sha = Digest.newSha256();
    sha.update("bulwark/table-id/1\n".getBytes(StandardCharsets.UTF_8));
    sha.update(canonicalDescription.getBytes(StandardCharsets.UTF_8));
    byte[] d = sha.digest();
    long v = 0;
    for (int i = 0; i < LENGTH; i++) {
      v = (v << 8) | (d[i] & 0xFF);
    }
    if (v == 0) {
      throw new IllegalStateException("table description hashes to the reserved meta id: " + canonicalDescription);
    }
    return new TableId(v);
  }

  public static TableId read(Bytes key) {
    if (key.length() < LENGTH) {
      throw new IllegalArgumentException("key of " + key.length() + " bytes has no table id");
    }
    long v = 0;
    for (int i = 0; i < LENGTH; i++) {
      v = (v << 8) | (key.at(i) & 0xFF);
    }
    return new TableId(v);
  }

  public byte[] toByteArray() {
    byte[] out = new byte[LENGTH];
    for (int i = 0; i < LENGTH; i++) {
      out[i] = (byte) (value >>> (56 - 8 * i));
    }
    return out;
  }

  /** The key prefix shared by every key of this table. */
  public Bytes prefix() {
    return Bytes.adopt(toByteArray());
  }

  public String hex() {
    return HexFormat.of().formatHex(toByteArray());
  }

  @Override
  public int compareTo(TableId other) {
    return Long.compareUnsigned(value, other.value);
  }

  @Override
  public String toString() {
    return hex();
  }
}
