package dev.bulwark.core.app;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.Mutation;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.state.AuthenticatedMap;
import dev.bulwark.core.state.StateUpdate;
import dev.bulwark.core.table.TableId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The current authenticated state as plain key-value entries, beside the trie. Requests read
 * and write it inside the batch transaction, so savepoints undo a rejected request's state
 * writes for free and reads are one point lookup; when the batch closes, its mirror writes
 * become the trie updates that produce the batch's state root.
 */
public final class StateMirror {
  /** The reserved table id of the mirror (not derived from a description: it holds raw trie keys). */
  public static final TableId TABLE = TableId.derive("bulwark.state-mirror v1");

  private static final Bytes PREFIX = TABLE.prefix();

  private StateMirror() {}

  public static Bytes storeKey(Bytes trieKey) {
    return PREFIX.concat(trieKey);
  }

  public static Optional<Bytes> get(ReadView view, Bytes trieKey) {
    return view.get(storeKey(trieKey));
  }

  public static <K, V> Optional<V> get(ReadView view, AuthenticatedMap<K, V> map, K key) {
    return get(view, map.keyBytes(key)).map(map.valueCodec()::decode);
  }

  public static <K, V> void put(Transaction tx, AuthenticatedMap<K, V> map, K key, V value) {
    tx.put(storeKey(map.keyBytes(key)), map.valueCodec().encode(value));
  }

  public static <K, V> void delete(Transaction tx, AuthenticatedMap<K, V> map, K key) {
    tx.delete(storeKey(map.keyBytes(key)));
  }

  /** The trie updates a batch's writes imply: every mirror write, in key order. */
  public static List<StateUpdate> updates(WriteSet writes) {
    List<StateUpdate> out = new ArrayList<>();
    Bytes end = PREFIX.prefixEnd();
    for (Map.Entry<Bytes, Mutation> e : writes.mutations().subMap(PREFIX, true, end, false).entrySet()) {
      Bytes trieKey = e.getKey().slice(PREFIX.length(), e.getKey().length());
      out.add(switch (e.getValue()) {
        case Mutation.Put put -> StateUpdate.put(trieKey, put.value());
        case Mutation.Delete delete -> StateUpdate.delete(trieKey);
      });
    }
    return out;
  }
}
