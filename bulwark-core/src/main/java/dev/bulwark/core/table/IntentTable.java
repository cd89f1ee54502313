package dev.bulwark.core.table;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.CorruptionException;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.DecodeException;
import dev.bulwark.core.codec.DecodeLimits;
import dev.bulwark.core.codec.KeyCodec;
import dev.bulwark.core.codec.TypeDescription;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.Entry;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.Transaction;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An intent-addressed table: values under typed primary keys whose ordered encoding makes
 * the table one contiguous key range, scanned in key order.
 */
public record IntentTable<K, V>(String name, int version, KeyCodec<K> keyCodec, Codec<V> valueCodec, TableId id,
    String description) implements Table<V> {

  public IntentTable {
    TypeDescription.checkName(name);
    Objects.requireNonNull(keyCodec);
    Objects.requireNonNull(valueCodec);
  }

  public static <K, V> IntentTable<K, V> of(String name, int version, KeyCodec<K> keyCodec, Codec<V> valueCodec) {
    if (version < 1) {
      throw new IllegalArgumentException("table versions start at 1: " + version);
    }
    String description = "intent " + TypeDescription.checkName(name) + " v" + version + " key="
        + keyCodec.type().render() + " value=" + valueCodec.type().render();
    return new IntentTable<>(name, version, keyCodec, valueCodec, TableId.derive(description), description);
  }

  /** One row of a scan. */
  public record Row<K, V>(K key, V value) {}

  public IntentKey keyOf(K key) {
    return new IntentKey(id, keyCodec.encode(key));
  }

  public void put(Transaction tx, K key, V value) {
    tx.put(keyOf(key).toBytes(), valueCodec.encode(value));
  }

  public void delete(Transaction tx, K key) {
    tx.delete(keyOf(key).toBytes());
  }

  public Optional<V> get(ReadView view, K key) {
    Bytes storeKey = keyOf(key).toBytes();
    return view.get(storeKey).map(stored -> decodeValue(storeKey, stored));
  }

  /** The key range of rows whose key starts with {@code prefix}. */
  public KeyRange range(KeyPrefix prefix) {
    return KeyRange.prefix(id.prefix().concat(prefix.bytes()));
  }

  /** Up to {@code limit} rows whose key starts with {@code prefix}, in key order. */
  public List<Row<K, V>> scan(ReadView view, KeyPrefix prefix, int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("negative scan limit " + limit);
    }
    List<Row<K, V>> rows = new ArrayList<>(Math.min(limit, 1024));
    try (Cursor cursor = view.scan(range(prefix))) {
      while (rows.size() < limit && cursor.hasNext()) {
        Entry e = cursor.next();
        rows.add(new Row<>(decodeKey(e.key()), decodeValue(e.key(), e.value())));
      }
    }
    return rows;
  }

  public K decodeKey(Bytes storeKey) {
    try {
      return keyCodec.decode(storeKey.slice(TableId.LENGTH, storeKey.length()), DecodeLimits.DEFAULT);
    } catch (DecodeException e) {
      throw new CorruptionException("intent key " + storeKey.hex() + " of table " + name, "key does not decode", e);
    }
  }

  private V decodeValue(Bytes storeKey, Bytes stored) {
    try {
      return valueCodec.decode(stored, DecodeLimits.DEFAULT);
    } catch (DecodeException e) {
      throw new CorruptionException("intent key " + storeKey.hex() + " of table " + name, "value does not decode", e);
    }
  }
}
