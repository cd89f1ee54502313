package dev.bulwark.core.table;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.CorruptionException;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.DecodeException;
import dev.bulwark.core.codec.DecodeLimits;
import dev.bulwark.core.codec.TypeDescription;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.Transaction;
import java.util.Objects;
import java.util.Optional;

/**
 * A content-addressed table: each value is stored under the SHA-256 of its canonical bytes.
 * Reads check the digest, so a value whose bytes changed on disk is reported as corruption
 * naming its key, never returned.
 */
public record ContentTable<T>(String name, int version, Codec<T> valueCodec, TableId id, String description)
    implements Table<T> {

  public ContentTable {
    TypeDescription.checkName(name);
    Objects.requireNonNull(valueCodec);
  }

  public static <T> ContentTable<T> of(String name, int version, Codec<T> valueCodec) {
    if (version < 1) {
      throw new IllegalArgumentException("table versions start at 1: " + version);
    }
    String description = "content " + TypeDescription.checkName(name) + " v" + version + " value="
        + valueCodec.type().render();
    return new ContentTable<>(name, version, valueCodec, TableId.derive(description), description);
  }

  /** The key {@code value} is stored under. */
  public ContentKey keyOf(T value) {
    return keyOfEncoded(valueCodec.encode(value));
  }

  public ContentKey keyOfEncoded(Bytes encoded) {
    return new ContentKey(id, Digest.sha256(encoded));
  }

  /** Writes {@code value} in {@code tx}; writing an existing value again changes nothing. */
  public ContentKey put(Transaction tx, T value) {
    Bytes encoded = valueCodec.encode(value);
    ContentKey key = keyOfEncoded(encoded);
    tx.put(key.toBytes(), encoded);
    return key;
  }

  public Optional<T> get(ReadView view, ContentKey key) {
    checkTable(key);
    return view.get(key.toBytes()).map(stored -> decodeStored(key, stored));
  }

  /** Checks that {@code stored} hashes to {@code key} and decodes it. */
  public T decodeStored(ContentKey key, Bytes stored) {
    checkTable(key);
    Digest actual = Digest.sha256(stored);
    if (!actual.equals(key.digest())) {
      throw new CorruptionException("content key " + key + " of table " + name,
          "stored bytes hash to " + actual.hex());
    }
    try {
      return valueCodec.decode(stored, DecodeLimits.DEFAULT);
    } catch (DecodeException e) {
      throw new CorruptionException("content key " + key + " of table " + name, "stored bytes do not decode", e);
    }
  }

  private void checkTable(ContentKey key) {
    if (!key.table().equals(id)) {
      throw new IllegalArgumentException("key " + key + " is not in table " + name + " (" + id + ")");
    }
  }
}
