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
  /**
   * Format version of the entry, first in its encoding: a replica refuses versions it cannot
   * read. Version 2 carries the write set in its records form ({@link WriteSet#CODEC}), which a
   * store writes as it is; version 1 (a list of key, optional value) is still read, from logs
   * and backups written before, and written only when asked ({@link #encode(int)}), while a
   * rolling upgrade from a build that reads nothing else is under way.
   */
  public static final int FORMAT_VERSION = 2;
  /** The oldest format this build reads. */
  public static final int FORMAT_VERSION_OLDEST = 1;

  /** Whether this build reads entries of {@code format}. */
  public static boolean reads(int format) {
    return format >= FORMAT_VERSION_OLDEST && format <= FORMAT_VERSION;
  }

  private record Write(Bytes key, Optional<Bytes> value) {}

  private static final Codec<Write> WRITE = Codecs.record("bulwark.Write",
      Codecs.field("key", Codecs.bytes(), Write::key),
      Codecs.field("value", Codecs.optional(Codecs.bytes()), Write::value),
      Write::new);

  /**
   * Format 1's write set, a list of {@link Write}s, encoded and decoded without a record or
   * optional per write. Format 2 has {@link WriteSet#CODEC} in its place.
   */
  private static final Codec<WriteSet> WRITE_SET_V1 = new Codec<>() {
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

  /** The canonical encoding in the current format, into a buffer sized for it up front (a batch is megabytes). */
  public Bytes encode() {
    return encode(FORMAT_VERSION);
  }

  /** The encoding in {@code format}, one this build {@link #reads}. */
  public Bytes encode(int format) {
    if (!reads(format)) {
      throw new IllegalArgumentException("batch entry format " + format + " is not one this build writes ("
          + FORMAT_VERSION_OLDEST + " to " + FORMAT_VERSION + ")");
    }
    long estimate = format == FORMAT_VERSION ? writes.recordsLength() + 1024L : writes.byteSize() + 11L * writes.size() + 1024;
    Encoder out = new Encoder((int) Math.min(estimate, Integer.MAX_VALUE - 16));
    if (format == FORMAT_VERSION) {
      CURRENT.encode(this, out);
    } else {
      out.writeVarLong(format).writeVarLong(batchNumber);
      WRITE_SET_V1.encode(writes, out);
      SignedBatchHead.CODEC.encode(head, out);
    }
    return out.toBytes();
  }

  private static final Codec<BatchEntry> CURRENT = Codecs.record("bulwark.BatchEntry",
      Codecs.field("format", Codecs.varU32(), e -> FORMAT_VERSION),
      Codecs.field("batchNumber", Codecs.varU64(), BatchEntry::batchNumber),
      Codecs.field("writes", WriteSet.CODEC, BatchEntry::writes),
      Codecs.field("head", SignedBatchHead.CODEC, BatchEntry::head),
      (format, number, writes, head) -> new BatchEntry(number, writes, head));

  /**
   * Writes {@link #FORMAT_VERSION}; reads every format from {@link #FORMAT_VERSION_OLDEST}: the
   * format comes first, and picks the write set's codec.
   */
  public static final Codec<BatchEntry> CODEC = new Codec<>() {
    @Override public dev.bulwark.core.codec.TypeDescription type() {
      return CURRENT.type();
    }

    @Override public void encode(BatchEntry value, Encoder out) {
      CURRENT.encode(value, out);
    }

    @Override public BatchEntry decode(Decoder in) {
      int start = in.position();
      in.enter();
      int format = Codecs.varU32().decode(in);
      if (!reads(format)) {
        throw in.errorAt(DecodeException.Reason.INVALID_VALUE, start, "batch entry format " + format + " is not "
            + FORMAT_VERSION + " (nor an older one this build reads, down to " + FORMAT_VERSION_OLDEST + "): "
            + (format > FORMAT_VERSION ? "this replica is too old for its peers" : "written by a build too old for this one"));
      }
      long number = in.readVarLong();
      WriteSet writes = (format == 1 ? WRITE_SET_V1 : WriteSet.CODEC).decode(in);
      SignedBatchHead head = SignedBatchHead.CODEC.decode(in);
      in.exit();
      try {
        return new BatchEntry(number, writes, head);
      } catch (IllegalArgumentException e) {
        throw in.errorAt(DecodeException.Reason.INVALID_VALUE, start, e.getMessage());
      }
    }
  };

  public BatchEntry {
    Objects.requireNonNull(writes);
    Objects.requireNonNull(head);
    if (head.head().batchNumber() != batchNumber) {
      throw new IllegalArgumentException("entry of batch " + batchNumber + " carries the head of batch "
          + head.head().batchNumber());
    }
  }
}
