package dev.bulwark.server.engine;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.kv.Mutation;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.receipt.SignedBatchHead;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

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

  private static final Codec<WriteSet> WRITE_SET = new Codec<>() {
    private final Codec<List<Write>> list = Codecs.list(WRITE);

    @Override public dev.bulwark.core.codec.TypeDescription type() {
      return list.type();
    }

    @Override public void encode(WriteSet value, dev.bulwark.core.codec.Encoder out) {
      List<Write> writes = new ArrayList<>(value.size());
      for (Map.Entry<Bytes, Mutation> e : value.mutations().entrySet()) {
        writes.add(new Write(e.getKey(), e.getValue() instanceof Mutation.Put put ? Optional.of(put.value()) : Optional.empty()));
      }
      list.encode(writes, out);
    }

    @Override public WriteSet decode(dev.bulwark.core.codec.Decoder in) {
      int start = in.position();
      TreeMap<Bytes, Mutation> mutations = new TreeMap<>();
      Bytes previous = null;
      for (Write w : list.decode(in)) {
        if (previous != null && w.key().compareTo(previous) <= 0) {
          throw in.errorAt(dev.bulwark.core.codec.DecodeException.Reason.UNSORTED_MAP_KEYS, start,
              "write set keys must be strictly ascending");
        }
        previous = w.key();
        mutations.put(w.key(), w.value().<Mutation>map(Mutation.Put::new).orElse(Mutation.Delete.INSTANCE));
      }
      return WriteSet.adopt(mutations);
    }
  };

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
