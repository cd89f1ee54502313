package dev.bulwark.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.Mutation;
import dev.bulwark.core.kv.WriteSet;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/** The write batch RocksDbStore serializes itself is byte for byte the one RocksDB's own API builds. */
class RocksDbWriteBatchTest {
  static {
    RocksDbNative.load();
  }

  @Test
  void serializedBatchEqualsTheOneRocksDbBuilds() throws RocksDBException {
    SplittableRandom random = new SplittableRandom(11);
    WriteSet.Builder builder = WriteSet.builder();
    for (int i = 0; i < 500; i++) {
      // Lengths across the varint32 boundaries: 1 byte up to 127, 2 up to 16383, 3 beyond.
      int keyLength = 1 + random.nextInt(i % 50 == 0 ? 300 : 40);
      byte[] key = new byte[keyLength];
      random.nextBytes(key);
      if (random.nextInt(4) == 0) {
        builder.delete(Bytes.adopt(key));
      } else {
        byte[] value = new byte[random.nextInt(i % 100 == 0 ? 20_000 : 200)];
        random.nextBytes(value);
        builder.put(Bytes.adopt(key), Bytes.adopt(value));
      }
    }
    WriteSet writes = builder.build();
    try (WriteBatch reference = new WriteBatch()) {
      for (Map.Entry<Bytes, Mutation> e : writes.mutations().entrySet()) {
        switch (e.getValue()) {
          case Mutation.Put put -> reference.put(e.getKey().unsafeArray(), put.value().unsafeArray());
          case Mutation.Delete ignored -> reference.delete(e.getKey().unsafeArray());
        }
      }
      assertThat(RocksDbStore.serialized(writes)).isEqualTo(reference.data());
      // The same writes as a follower has them, decoded from a batch entry: their records copied as they are.
      WriteSet decoded = WriteSet.CODEC.decode(WriteSet.CODEC.encode(writes));
      assertThat(RocksDbStore.serialized(decoded)).isEqualTo(reference.data());
      assertThat(RocksDbStore.serialized(WriteSet.adopt(new java.util.TreeMap<>(writes.mutations())))).isEqualTo(reference.data());
      // One more put after the set: what a replica writes with its applied mark.
      reference.put(new byte[] {1, 2, 3}, new byte[300]);
      assertThat(RocksDbStore.serialized(writes, Bytes.of(new byte[] {1, 2, 3}), Bytes.of(new byte[300])))
          .isEqualTo(reference.data());
    }
  }

  @Test
  void anEmptyWriteSetIsAnEmptyBatch() throws RocksDBException {
    try (WriteBatch reference = new WriteBatch()) {
      assertThat(RocksDbStore.serialized(WriteSet.EMPTY)).isEqualTo(reference.data());
    }
  }
}
