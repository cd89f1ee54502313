package dev.bulwark.server.engine;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.codec.DecodeException;
import dev.bulwark.core.codec.Decoder;
import dev.bulwark.core.codec.Encoder;
import dev.bulwark.core.kv.Mutation;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.receipt.SignedBatchHead;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ArrayList;

/**
 * One batch as it is replicated: the leader executed it, so the entry carries the result (the
 * write set: application state, trie nodes, log nodes, sessions with their receipts) and the
 * signed head. Replicas apply it without re-executing anything.
 */
public record BatchEntry(long batchNumber, WriteSet writes, SignedBatchHead head) {
  /** Format version of the entry, first in its encoding: a replica refuses versions it cannot read. */
  public static final int FORMAT_VERSION = 1;

  private record Write(Bytes key, Optional<Bytes> value) {}

  private static final Codec<Write> WRITE = Codecs.record("bulwark.Write",
      Codecs.field("key", Codecs.bytes(), Write::key),
      Codecs.field("value", Codecs.optional(Codecs.bytes()), Write::value),
      Write::new);

  /**
   * The write set as a list of {@link Write}s, encoded and decoded in place: no record or
   * optional per write, as the list codec would make for every one of a batch's many thousand
   * writes on the sequencer thread and again on every replica. Same bytes as that list.
   */
  private static final Codec<WriteSet> WRITE_SET = new Codec<>() {
    private final Codec<List<Write>> list = Codecs.list(WRITE);

    @Override public dev.bulwark.core.codec.TypeDescription type() {
      return list.type();
    }

    @Override public void encode(WriteSet value, Encoder out) {
      out.writeVarLong(value.size());
      value.forEachInOrder((key, mutation) -> {
        out.writeVarLong(key.length());
        out.writeBytes(key);
        if (mutation instanceof Mutation.Put put) {
          out.writeByte(1);
          out.writeVarLong(put.value().length());
          out.writeBytes(put.value());
        } else {
          out.writeByte(0);
        }
      });
    }

    @Override public WriteSet decode(Decoder in) {
      int start = in.position();
      int n = in.readLength(in.limits().elementsMax(), "list count");
      in.enter();
      // Lists that grow as writes are read, not arrays of the declared count: a forged count
      // must not allocate before the bytes behind it are there.
      List<Bytes> keys = new ArrayList<>(Math.min(n, 1 << 16));
      List<Mutation> mutations = new ArrayList<>(Math.min(n, 1 << 16));
      Bytes previous = null;
      for (int i = 0; i < n; i++) {
        in.enter();
        Bytes key = Bytes.adopt(in.readBytes(in.readLength(in.limits().byteStringBytesMax(), "byte string length")));
        int tag = in.readUnsignedByte();
        Mutation m = switch (tag) {
          case 0 -> Mutation.Delete.INSTANCE;
          case 1 -> {
            in.enter();
            Bytes value = Bytes.adopt(in.readBytes(in.readLength(in.limits().byteStringBytesMax(), "byte string length")));
            in.exit();
            yield new Mutation.Put(value);
          }
          default -> throw in.errorAt(DecodeException.Reason.INVALID_OPTIONAL_TAG, in.position() - 1, "optional tag " + tag);
        };
        in.exit();
        if (previous != null && key.compareTo(previous) <= 0) {
          throw in.errorAt(DecodeException.Reason.UNSORTED_MAP_KEYS, start, "write set keys must be strictly ascending");
        }
        previous = key;
        keys.add(key);
        mutations.add(m);
      }
      in.exit();
      return WriteSet.ofAscending(keys, mutations);
    }
  };

  /** Upper bound of the write set's encoding beyond its key and value bytes: lengths and tags. */
  private static final int BYTES_PER_WRITE_MAX = 5 + 1 + 5;

  /** The canonical encoding, into a buffer sized for it up front (a batch is megabytes). */
  public Bytes encode() {
    long estimate = writes.byteSize() + (long) BYTES_PER_WRITE_MAX * writes.size() + 1024;
    Encoder out = new Encoder((int) Math.min(estimate, Integer.MAX_VALUE - 16));
    CODEC.encode(this, out);
    return out.toBytes();
  }

  public static final Codec<BatchEntry> CODEC = Codecs.record("bulwark.BatchEntry",
      Codecs.field("format", Codecs.varU32(), e -> FORMAT_VERSION),
      Codecs.field("batchNumber", Codecs.varU64(), BatchEntry::batchNumber),
      Codecs.field("writes", WRITE_SET, BatchEntry::writes),
      Codecs.field("head", SignedBatchHead.CODEC, BatchEntry::head),
      (format, number, writes, head) -> {
        if (format != FORMAT_VERSION) {
          throw new IllegalArgumentException("batch entry format " + format + " is not " + FORMAT_VERSION
              + ": this replica is too old for its peers");
        }
        return new BatchEntry(number, writes, head);
      });

  public BatchEntry {
    Objects.requireNonNull(writes);
    Objects.requireNonNull(head);
    if (head.head().batchNumber() != batchNumber) {
      throw new IllegalArgumentException("entry of batch " + batchNumber + " carries the head of batch "
          + head.head().batchNumber());
    }
  }
}
