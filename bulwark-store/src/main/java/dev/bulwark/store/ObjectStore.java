package dev.bulwark.store;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.Entry;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.table.ContentKey;
import dev.bulwark.core.table.ContentTable;
import dev.bulwark.core.table.IntentTable;
import dev.bulwark.core.table.KeyPrefix;
import dev.bulwark.core.table.Ref;
import dev.bulwark.core.table.Table;
import dev.bulwark.core.table.TableId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The typed object store: a {@link KeyValueStore} plus the meta table that describes every
 * table in it, and the shared {@link ObjectCache} that lazy {@link Ref}s load through.
 *
 * <p>The database describes itself: under table id 0 it keeps, for every table id, the
 * table's name, version and canonical description. Registering a table whose name and version
 * are stored with a different description fails with {@link SchemaConflictException}.
 *
 * <p>Writes come from one writer at a time (the sequencer); {@link #write} does not serialize
 * concurrent writers against each other. Reads may come from any thread.
 */
public final class ObjectStore implements AutoCloseable {
  /** What the meta table records about one table. */
  public record TableInfo(String name, int version, String description) {}

  private static final Codec<TableInfo> TABLE_INFO = Codecs.record("bulwark.TableInfo",
      Codecs.field("name", Codecs.utf8(), TableInfo::name),
      Codecs.field("version", Codecs.varU32(), TableInfo::version),
      Codecs.field("description", Codecs.utf8(), TableInfo::description),
      TableInfo::new);

  private static final int META_TABLES_MAX = 100_000;

  private final KeyValueStore store;
  private final StoreConfig config;
  private final ObjectCache cache;

  private ObjectStore(KeyValueStore store, StoreConfig config) {
    this.store = store;
    this.config = config;
    this.cache = new ObjectCache(store, config.cacheBytesMax());
  }

  /** Opens the database described by {@code config} and registers {@code tables} in its meta table. */
  public static ObjectStore open(StoreConfig config, List<? extends Table<?>> tables) {
    return over(config.backend().open(config.directory()), config, tables);
  }

  /**
   * Wraps {@code store}, already open, and registers {@code tables} in its meta table; closes
   * {@code store} if that fails. {@code config} becomes this store's configuration, but its
   * directory and backend are not opened. The pipeline simulator runs its seeds this way, on an
   * in-memory model of the store.
   */
  public static ObjectStore over(KeyValueStore store, StoreConfig config, List<? extends Table<?>> tables) {
    ObjectStore objects = new ObjectStore(store, config);
    try {
      objects.register(tables);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    return objects;
  }

  public KeyValueStore store() {
    return store;
  }

  public ObjectCache cache() {
    return cache;
  }

  public StoreConfig config() {
    return config;
  }

  private static Bytes metaKey(TableId id) {
    return TableId.META.prefix().concat(id.prefix());
  }

  /**
   * Records {@code tables} in the meta table, checking them against what is stored: the same
   * id must have the same description, and one name and version must have one description.
   */
  public void register(List<? extends Table<?>> tables) {
    List<TableInfo> stored = storedTables();
    List<TableInfo> declared = new ArrayList<>();
    WriteSet.Builder additions = WriteSet.builder();
    for (Table<?> table : tables) {
      for (TableInfo other : declared) {
        if (other.name().equals(table.name()) && other.version() == table.version()
            && !other.description().equals(table.description())) {
          throw new SchemaConflictException("table '" + table.name() + "' version " + table.version()
              + " is declared twice, as\n  " + other.description() + "\nand as\n  " + table.description());
        }
      }
      for (TableInfo info : stored) {
        if (info.name().equals(table.name()) && info.version() == table.version()
            && !info.description().equals(table.description())) {
          throw new SchemaConflictException("table '" + table.name() + "' version " + table.version()
              + " is stored in " + store.directory() + " as\n  " + info.description()
              + "\nbut this program declares it as\n  " + table.description()
              + "\nAn incompatible change needs a new table version; refusing to decode old data with the new codec.");
        }
      }
      Optional<Bytes> existing = store.get(metaKey(table.id()));
      TableInfo info = new TableInfo(table.name(), table.version(), table.description());
      if (existing.isPresent()) {
        TableInfo was = TABLE_INFO.decode(existing.get());
        if (!was.equals(info)) {
          throw new SchemaConflictException("table id " + table.id() + " is stored as '" + was.description()
              + "' but this program derives it for '" + info.description() + "'");
        }
      } else {
        additions.put(metaKey(table.id()), TABLE_INFO.encode(info));
      }
      declared.add(info);
    }
    WriteSet writes = additions.build();
    if (!writes.isEmpty()) {
      store.write(writes, Durability.SYNC);
    }
  }

  /** Every table the meta table records, in table id order. */
  public List<TableInfo> storedTables() {
    List<TableInfo> out = new ArrayList<>();
    try (Cursor cursor = store.scan(KeyRange.prefix(TableId.META.prefix()))) {
      while (cursor.hasNext() && out.size() < META_TABLES_MAX) {
        Entry e = cursor.next();
        out.add(TABLE_INFO.decode(e.value()));
      }
    }
    return out;
  }

  /** A consistent read-only view of the committed state; close it when done. */
  public StoreSnapshot snapshot() {
    return store.snapshot();
  }

  /**
   * Runs {@code body} in a transaction over a fresh snapshot and applies its writes as one
   * atomic batch with the configured durability. If {@code body} throws, nothing is written.
   */
  public <R> R write(Function<Transaction, R> body) {
    try (StoreSnapshot snapshot = store.snapshot()) {
      Transaction tx = new Transaction(snapshot);
      R result = body.apply(tx);
      commit(tx.commit());
      return result;
    }
  }

  /** Applies a committed transaction's writes atomically. */
  public void commit(WriteSet writes) {
    store.write(writes, config.durability());
  }

  /** Stores {@code value} and returns its content key; storing it again changes nothing. */
  public <T> ContentKey put(ContentTable<T> table, T value) {
    Bytes encoded = table.valueCodec().encode(value);
    ContentKey key = table.keyOfEncoded(encoded);
    store.write(WriteSet.builder().put(key.toBytes(), encoded).build(), config.durability());
    cache.offer(table, key, value, encoded.length());
    return key;
  }

  /** The value under {@code key}, through the cache, checked against its digest on load. */
  public <T> Optional<T> get(ContentTable<T> table, ContentKey key) {
    return cache.find(table, key);
  }

  /** A lazy reference that loads through the shared cache on first use. */
  public <T> Ref<T> ref(ContentTable<T> table, ContentKey key) {
    return Ref.lazy(table, key, cache);
  }

  public <K, V> void put(IntentTable<K, V> table, K key, V value) {
    write(tx -> {
      table.put(tx, key, value);
      return null;
    });
  }

  public <K, V> Optional<V> get(IntentTable<K, V> table, K key) {
    return table.get(store, key);
  }

  public <K, V> List<IntentTable.Row<K, V>> scan(IntentTable<K, V> table, KeyPrefix prefix, int limit) {
    return table.scan(store, prefix, limit);
  }

  @Override
  public void close() {
    store.close();
  }
}
