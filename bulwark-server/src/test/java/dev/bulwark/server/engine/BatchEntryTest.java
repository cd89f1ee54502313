package dev.bulwark.server.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.DecodeException;
import dev.bulwark.core.codec.Encoder;
import dev.bulwark.core.kv.Mutation;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.receipt.BatchHead;
import dev.bulwark.core.receipt.SignedBatchHead;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BatchEntryTest {
  static final SigningKey OPERATOR = SigningKey.generate(new SplittableRandom(41));

  private static BatchEntry entry(WriteSet writes) {
    BatchHead head = new BatchHead("entries", 3, 0, BatchHead.ZERO, BatchHead.ZERO, BatchHead.ZERO, 1);
    return new BatchEntry(3, writes, SignedBatchHead.sign(head, OPERATOR));
  }

  /** {@code count} puts and deletes of random keys, values of 0 to 199 bytes (lengths of one and two varint bytes). */
  private static WriteSet randomWrites(long seed, int count) {
    SplittableRandom random = new SplittableRandom(seed);
    WriteSet.Builder writes = WriteSet.builder();
    for (int i = 0; i < count; i++) {
      Bytes key = Bytes.utf8("key-" + random.nextInt(1_000_000));
      if (random.nextInt(4) == 0) {
        writes.delete(key);
      } else {
        writes.put(key, Bytes.utf8("v".repeat(random.nextInt(200))));
      }
    }
    return writes.build();
  }

  @Test
  void aBatchOfPutsAndDeletesDecodesToTheSameWritesInOrder() {
    BatchEntry entry = entry(randomWrites(8, 2_000));
    Bytes encoded = entry.encode();
    BatchEntry decoded = BatchEntry.CODEC.decode(encoded);
    assertThat(decoded.batchNumber()).isEqualTo(3);
    assertThat(decoded.head()).isEqualTo(entry.head());
    assertThat(decoded.writes().mutations()).containsExactlyEntriesOf(entry.writes().mutations());
    assertThat(decoded.encode()).isEqualTo(encoded);
  }

  @Test
  void writesOutOfKeyOrderAreRefusedAsNonCanonical() {
    BatchEntry entry = entry(WriteSet.builder().put(Bytes.utf8("ka"), Bytes.utf8("1")).put(Bytes.utf8("kb"), Bytes.utf8("2"))
        .build());
    byte[] encoded = entry.encode().toByteArray();
    // Swap the two keys' last bytes in place: the same lengths, the keys now descend.
    int first = indexOf(encoded, "ka");
    int second = indexOf(encoded, "kb");
    encoded[first + 1] = 'b';
    encoded[second + 1] = 'a';
    assertThatThrownBy(() -> BatchEntry.CODEC.decode(Bytes.adopt(encoded))).isInstanceOf(DecodeException.class)
        .satisfies(e -> assertThat(((DecodeException) e).reason()).isEqualTo(DecodeException.Reason.UNSORTED_MAP_KEYS));
    byte[] repeated = entry.encode().toByteArray();
    repeated[indexOf(repeated, "kb") + 1] = 'a';
    assertThatThrownBy(() -> BatchEntry.CODEC.decode(Bytes.adopt(repeated))).isInstanceOf(DecodeException.class)
        .satisfies(e -> assertThat(((DecodeException) e).reason()).isEqualTo(DecodeException.Reason.UNSORTED_MAP_KEYS));
  }

  @Test
  void formatTwoCarriesTheWriteSetsRecordsAsTheyAre() {
    WriteSet writes = WriteSet.builder().put(Bytes.utf8("ka"), Bytes.utf8("1")).delete(Bytes.utf8("kb")).build();
    BatchEntry entry = entry(writes);
    Encoder expected = new Encoder();
    expected.writeVarLong(BatchEntry.FORMAT_VERSION).writeVarLong(3).writeBytes(WriteSet.CODEC.encode(writes))
        .writeBytes(SignedBatchHead.CODEC.encode(entry.head()));
    assertThat(BatchEntry.FORMAT_VERSION).isEqualTo(2);
    assertThat(entry.encode()).isEqualTo(expected.toBytes());
  }

  @Test
  void anEntryOfFormatOneFromAnOlderLogStillDecodes() {
    BatchEntry entry = entry(randomWrites(9, 300));
    // Format 1, as builds before format 2 wrote it: per write its key, then an optional value (tag 1 and bytes, or tag 0).
    Encoder v1 = new Encoder();
    v1.writeVarLong(1).writeVarLong(entry.batchNumber()).writeVarLong(entry.writes().size());
    entry.writes().forEachInOrder((key, mutation) -> {
      v1.writeVarLong(key.length()).writeBytes(key);
      if (mutation instanceof Mutation.Put put) {
        v1.writeByte(1).writeVarLong(put.value().length()).writeBytes(put.value());
      } else {
        v1.writeByte(0);
      }
    });
    v1.writeBytes(SignedBatchHead.CODEC.encode(entry.head()));
    // What a leader writes during a rolling upgrade from such a build (raft.entryFormat 1).
    assertThat(entry.encode(1)).isEqualTo(v1.toBytes());
    BatchEntry decoded = BatchEntry.CODEC.decode(v1.toBytes());
    assertThat(decoded.head()).isEqualTo(entry.head());
    assertThat(decoded.writes().mutations()).containsExactlyEntriesOf(entry.writes().mutations());
    // Written again, it is format 2.
    assertThat(decoded.encode()).isEqualTo(entry.encode());
    assertThat(BatchEntry.reads(1)).isTrue();
    assertThat(BatchEntry.reads(0)).isFalse();
    assertThat(BatchEntry.reads(BatchEntry.FORMAT_VERSION + 1)).isFalse();
    assertThatThrownBy(() -> entry.encode(BatchEntry.FORMAT_VERSION + 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("batch entry format 3 is not one this build writes (1 to 2)");
  }

  private static int indexOf(byte[] haystack, String needle) {
    byte[] n = needle.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    outer:
    for (int i = 0; i + n.length <= haystack.length; i++) {
      for (int j = 0; j < n.length; j++) {
        if (haystack[i + j] != n[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError(needle + " not in the encoding");
  }
}
