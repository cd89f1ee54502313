package dev.bulwark.store;

import java.nio.file.Path;

/** The storage engines behind {@link KeyValueStore}. */
public enum Backend {
  /** RocksDB, the default: LevelDB's maintained successor, native code. */
  ROCKSDB,
  /** The pure-Java LevelDB port (org.iq80.leveldb), the seed's original choice. */
  LEVELDB;

  /** Opens (creating if missing) the store in {@code directory}. */
  public KeyValueStore open(Path directory) {
    return switch (this) {
      case ROCKSDB -> RocksDbStore.open(directory);
      case LEVELDB -> LevelDbStore.open(directory);
    };
  }

  /** Parses a backend name as written in configuration ("rocksdb", "leveldb"). */
  public static Backend parse(String name) {
    for (Backend b : values()) {
      if (b.name().equalsIgnoreCase(name)) {
        return b;
      }
    }
    throw new IllegalArgumentException("unknown storage backend '" + name + "' (expected rocksdb or leveldb)");
  }
}
