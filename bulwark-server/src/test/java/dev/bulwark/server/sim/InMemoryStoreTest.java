package dev.bulwark.server.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.Entry;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.store.Backend;
import dev.bulwark.store.Durability;
import dev.bulwark.store.KeyValueStore;
import dev.bulwark.store.StoreSnapshot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulator's {@link InMemoryStore} against RocksDB, operation by operation: the same
 * seeded writes, deletes, reads, range scans, snapshots and cursors left open across writes go
 * to both, and every read must agree. Keys come from a small alphabet with 0x00 and 0xFF, so
 * overwrites, deletes of present keys, prefixes and unsigned order are frequent.
 */
class InMemoryStoreTest {
  private static final int STEPS = 3_000;
  private static final int[] ALPHABET = {0x00, 0x01, 0x7F, 0x80, 0xFF};

  @TempDir Path dir;

  /** A snapshot, or a cursor opened earlier, on each store. */
  private record Pair<T extends AutoCloseable>(T memory, T rocksDb, String what) {}

  @Test
  void behavesAsRocksDbDoes() throws Exception {
    SplittableRandom random = new SplittableRandom(0x51AL);
    List<Pair<StoreSnapshot>> snapshots = new ArrayList<>();
    List<Pair<Cursor>> cursors = new ArrayList<>();
    KeyValueStore memory = new InMemoryStore(dir.resolve("memory"));
    try (KeyValueStore rocksDb = Backend.ROCKSDB.open(dir.resolve("rocksdb"))) {
      int reads = 0;
      for (int step = 0; step < STEPS; step++) {
        String at = "step " + step;
        switch (random.nextInt(8)) {
          case 0, 1, 2 -> {
            WriteSet writes = randomWrites(random);
            memory.write(writes, Durability.NO_SYNC);
            rocksDb.write(writes, Durability.NO_SYNC);
          }
          case 3 -> {
            Bytes key = randomKey(random);
            assertThat(memory.get(key)).as(at + ": get " + key).isEqualTo(rocksDb.get(key));
            reads++;
          }
          case 4 -> {
            KeyRange range = randomRange(random);
            assertThat(scan(memory, range)).as(at + ": scan " + range).isEqualTo(scan(rocksDb, range));
            reads++;
          }
          case 5 -> {
            if (snapshots.size() < 4) {
              snapshots.add(new Pair<>(memory.snapshot(), rocksDb.snapshot(), "snapshot of " + at));
            } else {
              Pair<StoreSnapshot> s = snapshots.remove(random.nextInt(snapshots.size()));
              KeyRange range = randomRange(random);
              Bytes key = randomKey(random);
              assertThat(scan(s.memory(), range)).as(at + ": " + s.what() + ", scan " + range)
                  .isEqualTo(scan(s.rocksDb(), range));
              assertThat(s.memory().get(key)).as(at + ": " + s.what() + ", get " + key).isEqualTo(s.rocksDb().get(key));
              reads += 2;
              s.memory().close();
              s.rocksDb().close();
              assertThatThrownBy(() -> s.memory().get(key)).isInstanceOf(IllegalStateException.class);
            }
          }
          default -> {
            if (cursors.size() < 4) {
              KeyRange range = randomRange(random);
              cursors.add(new Pair<>(memory.scan(range), rocksDb.scan(range), "cursor of " + at + " over " + range));
            } else {
              Pair<Cursor> c = cursors.remove(random.nextInt(cursors.size()));
              assertThat(drain(c.memory())).as(at + ": " + c.what()).isEqualTo(drain(c.rocksDb()));
              reads++;
              c.memory().close();
              c.rocksDb().close();
            }
          }
        }
      }
      assertThat(scan(memory, KeyRange.ALL)).as("everything at the end").isEqualTo(scan(rocksDb, KeyRange.ALL))
          .isNotEmpty();
      assertThat(reads).as("reads compared").isGreaterThan(STEPS / 4);
      Pair<StoreSnapshot> open = new Pair<>(memory.snapshot(), rocksDb.snapshot(), "open at close");
      memory.close();
      assertThatThrownBy(() -> memory.get(Bytes.utf8("a"))).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> open.memory().scan(KeyRange.ALL)).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> memory.write(WriteSet.EMPTY, Durability.NO_SYNC))
          .isInstanceOf(IllegalStateException.class);
      open.rocksDb().close();
    } finally {
      memory.close();
      for (Pair<Cursor> c : cursors) {
        c.rocksDb().close();
      }
      for (Pair<StoreSnapshot> s : snapshots) {
        s.rocksDb().close();
      }
    }
  }

  /** The simulator's replica comparison finds each kind of difference, and none between equals. */
  @Test
  void theReplicaComparisonFindsEveryDifference() {
    try (InMemoryStore reference = new InMemoryStore(dir.resolve("a"));
        InMemoryStore other = new InMemoryStore(dir.resolve("b"))) {
      WriteSet both = WriteSet.builder().put(Bytes.utf8("b"), Bytes.utf8("1")).put(Bytes.utf8("d"), Bytes.utf8("2")).build();
      reference.write(both, Durability.NO_SYNC);
      other.write(both, Durability.NO_SYNC);
      assertThat(Simulation.difference(reference, other)).isEmpty();
      other.write(WriteSet.builder().put(Bytes.utf8("c"), Bytes.utf8("3")).build(), Durability.NO_SYNC);
      assertThat(Simulation.difference(reference, other)).contains("1 keys, first " + Bytes.utf8("c"));
      reference.write(WriteSet.builder().put(Bytes.utf8("a"), Bytes.utf8("4")).put(Bytes.utf8("e"), Bytes.utf8("5"))
          .build(), Durability.NO_SYNC);
      other.write(WriteSet.builder().put(Bytes.utf8("d"), Bytes.utf8("other")).build(), Durability.NO_SYNC);
      assertThat(Simulation.difference(reference, other)).contains("4 keys, first " + Bytes.utf8("a"));
      assertThat(Simulation.difference(other, reference)).contains("4 keys, first " + Bytes.utf8("a"));
    }
  }

  private static WriteSet randomWrites(SplittableRandom random) {
    WriteSet.Builder b = WriteSet.builder();
    int n = 1 + random.nextInt(6);
    for (int i = 0; i < n; i++) {
      if (random.nextInt(3) == 0) {
        b.delete(randomKey(random));
      } else {
        byte[] value = new byte[random.nextInt(4)];
        random.nextBytes(value);
        b.put(randomKey(random), Bytes.of(value));
      }
    }
    return b.build();
  }

  private static Bytes randomKey(SplittableRandom random) {
    byte[] key = new byte[1 + random.nextInt(3)];
    for (int i = 0; i < key.length; i++) {
      key[i] = (byte) ALPHABET[random.nextInt(ALPHABET.length)];
    }
    return Bytes.of(key);
  }

  private static KeyRange randomRange(SplittableRandom random) {
    return switch (random.nextInt(4)) {
      case 0 -> KeyRange.ALL;
      case 1 -> KeyRange.prefix(randomKey(random));
      default -> {
        Bytes a = randomKey(random);
        Bytes b = randomKey(random);
        yield a.compareTo(b) <= 0 ? new KeyRange(a, b) : new KeyRange(b, a);
      }
    };
  }

  private static List<Entry> scan(ReadView view, KeyRange range) {
    try (Cursor cursor = view.scan(range)) {
      return drain(cursor);
    }
  }

  private static List<Entry> drain(Cursor cursor) {
    List<Entry> out = new ArrayList<>();
    for (int n = 0; cursor.hasNext() && n < 10_000; n++) {
      out.add(cursor.next());
    }
    return out;
  }
}
