package dev.bulwark.bench;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.store.Backend;
import dev.bulwark.store.Durability;
import dev.bulwark.store.KeyValueStore;
import java.nio.file.Path;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The {@link KeyValueStore} SPI on each backend, with content-addressed keys (8-byte table
 * id + SHA-256, 40 bytes) and encoded {@link Transfer}s as values (about 160 bytes):
 *
 * <ul>
 *   <li>{@code get}: a point read of a random key among {@value #PRELOADED_KEYS} preloaded
 *       ones. The store is closed and reopened after loading, which flushes the loaded keys
 *       from the write-ahead log into table files, so reads go through table files and the
 *       engine's block cache, not just the memtable;
 *   <li>{@code putNoSync}: one new key as a one-entry {@code WriteSet}, {@code NO_SYNC}
 *       (building the {@code WriteSet} is included: it is what every caller pays);
 *   <li>{@code batchWriteNoSync} and {@code batchWriteSync}: one atomic {@code WriteSet} of
 *       {@value #BATCH_ENTRIES} puts, without and with an fsync of the write-ahead log. The
 *       batches are built in set-up and reused in turn ({@value #BATCH_POOL} of them), so
 *       the time is the store's alone; divide by {@value #BATCH_ENTRIES} for the cost of one
 *       entry.
 * </ul>
 *
 * <p>Writes accumulate over the run, so the write benchmarks include the engine's flushes,
 * compactions and any write stalls they cause, as a real writer would.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
 * -jar bulwark-bench/target/benchmarks.jar StoreBenchmark -f 1 -wi 3 -i 5}; one backend only:
 * add {@code -p backend=ROCKSDB}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class StoreBenchmark {
  static final int PRELOADED_KEYS = 100_000;
  static final int BATCH_ENTRIES = 1_000;
  static final int BATCH_POOL = 64;
  private static final int KEY_BYTES = 40;
  private static final int TABLE_ID_BYTES = 8;

  @Param({"ROCKSDB", "LEVELDB"})
  public Backend backend;

  private Path directory;
  private KeyValueStore store;
  private Bytes[] keys;
  private Bytes value;
  private byte[] keyTemplate;
  private WriteSet[] batches;
  private int nextBatch;

  @Setup(Level.Trial)
  public void setUp() {
    directory = TempDirectory.create("bulwark-bench-store-");
    SplittableRandom random = new SplittableRandom(7);

    keys = new Bytes[PRELOADED_KEYS];
    store = backend.open(directory);
    WriteSet.Builder load = WriteSet.builder();
    for (int i = 0; i < PRELOADED_KEYS; i++) {
      Bytes encoded = Transfer.CODEC.encode(Transfer.random(random));
      keys[i] = Transfer.TABLE.keyOfEncoded(encoded).toBytes();
      load.put(keys[i], encoded);
      if ((i + 1) % BATCH_ENTRIES == 0) {
        store.write(load.build(), Durability.NO_SYNC);
      }
    }
    store.write(load.build(), Durability.NO_SYNC);
    store.close();
    store = backend.open(directory);
    for (Bytes key : keys) {
      if (key.length() != KEY_BYTES) {
        throw new IllegalStateException("content keys have " + KEY_BYTES + " bytes, got " + key.length());
      }
    }
    if (store.get(keys[PRELOADED_KEYS - 1]).isEmpty()) {
      throw new IllegalStateException("preloaded key missing after reopening " + backend);
    }

    value = Transfer.CODEC.encode(Transfer.random(random));
    keyTemplate = keys[0].toByteArray();

    batches = new WriteSet[BATCH_POOL];
    for (int b = 0; b < BATCH_POOL; b++) {
      WriteSet.Builder batch = WriteSet.builder();
      for (int i = 0; i < BATCH_ENTRIES; i++) {
        batch.put(Transfer.randomBytes(random, KEY_BYTES), value);
      }
      batches[b] = batch.build();
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (store != null) {
      store.close();
    }
    TempDirectory.delete(directory);
  }

  @Benchmark
  public Optional<Bytes> get(KeyPicker picker) {
    return store.get(keys[picker.index(PRELOADED_KEYS)]);
  }

  @Benchmark
  public void putNoSync(KeyPicker picker) {
    byte[] key = keyTemplate.clone();
    long scattered = picker.nextScattered();
    for (int i = 0; i < Long.BYTES; i++) {
      key[TABLE_ID_BYTES + i] = (byte) (scattered >>> (56 - 8 * i));
    }
    store.write(WriteSet.builder().put(Bytes.adopt(key), value).build(), Durability.NO_SYNC);
  }

  @Benchmark
  public void batchWriteNoSync() {
    store.write(nextBatch(), Durability.NO_SYNC);
  }

  @Benchmark
  public void batchWriteSync() {
    store.write(nextBatch(), Durability.SYNC);
  }

  private WriteSet nextBatch() {
    WriteSet batch = batches[nextBatch];
    nextBatch = (nextBatch + 1) % BATCH_POOL;
    return batch;
  }
}
