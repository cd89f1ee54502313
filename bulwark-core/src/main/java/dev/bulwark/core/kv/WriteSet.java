package dev.bulwark.core.kv;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.DecodeException;
import dev.bulwark.core.codec.DecodeLimits;
import dev.bulwark.core.codec.Decoder;
import dev.bulwark.core.codec.Encoder;
import dev.bulwark.core.codec.TypeDescription;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.NavigableMap;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * The writes a committed transaction makes, in key order, at most one per key. A store
 * applies it as one atomic batch; it is also a {@link ReadView} layer over its base, which
 * is how a batch is processed on top of an earlier batch that has not committed yet.
 *
 * <p><b>The records form.</b> A write set's canonical bytes ({@link #CODEC}) are its writes in
 * key order, each one record:
 * <pre>
 *   record := kind (1 byte: 1 put, 0 delete) · key length (LEB128) · key · [value length (LEB128) · value]
 * </pre>
 * the value present for a put only. This is, byte for byte, the record layout of a RocksDB and
 * LevelDB write batch, so a store writes a replicated batch by copying its records behind a
 * batch header: no write is decoded, re-encoded or even looked at on a follower's apply path.
 * A write set keeps its records once encoded (the sequencer encodes them for Raft, and the
 * leader's own apply then copies them) or decoded (they stay in the entry's buffer, validated
 * in place), and builds keys, mutations and the sorted map only when someone reads them.
 */
public final class WriteSet {
  public static final WriteSet EMPTY = new WriteSet(new TreeMap<>());

  private static final int KIND_DELETE = 0;
  private static final int KIND_PUT = 1;

  /**
   * The writes as a sorted map; for a write set made from an ascending run or from records,
   * built on first use (a follower only writes the records to its store and never needs the
   * map). Racing first uses build equal maps; the volatile write publishes a fully built one.
   * The same holds for {@link #run} and {@link #records}: every form is derived from whichever
   * the write set was made with, and each is immutable once published.
   */
  private volatile NavigableMap<Bytes, Mutation> mutations;
  /** The writes as parallel lists in key order: made so, or parsed from the records on first use. */
  private volatile Run run;
  /** The records form: made so (decoded), or encoded on first use. */
  private volatile Records records;
  /**
   * The same writes by hash, when the writer kept them so (a transaction does): a read through
   * {@link #over} that misses, the common case for a batch still in flight, is then one hash
   * probe instead of a descent through thousands of keys. Null: reads use the sorted map.
   */
  private final Map<Bytes, Mutation> hashed;
  private final int size;
  /** Key and value bytes in all; -1 until first computed. */
  private volatile long weight = -1;

  private record Run(List<Bytes> keys, List<Mutation> mutations) {}

  /** Records in {@code array[from, to)}, with the key and value bytes they hold in all. */
  private record Records(byte[] array, int from, int to, long weight) {
    int length() {
      return to - from;
    }
  }

  private WriteSet(NavigableMap<Bytes, Mutation> mutations) {
    this(mutations, null);
  }

  private WriteSet(NavigableMap<Bytes, Mutation> mutations, Map<Bytes, Mutation> hashed) {
    this.mutations = Collections.unmodifiableNavigableMap(mutations);
    this.hashed = hashed;
    this.size = mutations.size();
  }

  private WriteSet(List<Bytes> runKeys, List<Mutation> runMutations) {
    this.run = new Run(runKeys, runMutations);
    this.hashed = null;
    this.size = runKeys.size();
  }

  private WriteSet(Records records, int size) {
    this.records = records;
    this.hashed = null;
    this.size = size;
    this.weight = records.weight();
  }

  /** Takes ownership of {@code mutations}; the caller must not touch the map again. */
  public static WriteSet adopt(NavigableMap<Bytes, Mutation> mutations) {
    return mutations.isEmpty() ? EMPTY : new WriteSet(mutations);
  }

  /**
   * As {@link #adopt(NavigableMap)}, with {@code hashed} holding exactly the same entries for
   * point reads. Takes ownership of both maps.
   */
  static WriteSet adopt(NavigableMap<Bytes, Mutation> mutations, Map<Bytes, Mutation> hashed) {
    if (mutations.size() != hashed.size()) {
      throw new IllegalStateException(mutations.size() + " sorted writes but " + hashed.size() + " hashed");
    }
    return mutations.isEmpty() ? EMPTY : new WriteSet(mutations, hashed);
  }

  /**
   * The writes {@code keys[i]} to {@code mutations[i]}, with keys strictly ascending (a decoded
   * write set, say): kept as the run, and the sorted map built from it in one linear pass if
   * anyone asks for it (a follower that only stores the batch never does). A caller with input
   * from outside checks the order itself, to answer in its own terms; keys out of order here are
   * a broken invariant and refused. Takes ownership of both lists.
   */
  public static WriteSet ofAscending(List<Bytes> keys, List<Mutation> mutations) {
    if (keys.size() != mutations.size()) {
      throw new IllegalArgumentException(keys.size() + " keys for " + mutations.size() + " mutations");
    }
    for (int i = 1; i < keys.size(); i++) {
      if (keys.get(i - 1).compareTo(keys.get(i)) >= 0) {
        throw new IllegalArgumentException("write set keys must be strictly ascending, at " + i);
      }
    }
    for (Mutation m : mutations) {
      Objects.requireNonNull(m, "a mutation");
    }
    return keys.isEmpty() ? EMPTY : new WriteSet(keys, mutations);
  }

  /**
   * Just enough of a sorted map for {@link TreeMap#TreeMap(SortedMap)}, which builds its tree
   * from a sorted map's entries in linear time; nothing else ever sees it.
   */
  private static final class AscendingRun extends AbstractMap<Bytes, Mutation> implements SortedMap<Bytes, Mutation> {
    private final List<Bytes> keys;
    private final List<Mutation> mutations;

    AscendingRun(List<Bytes> keys, List<Mutation> mutations) {
      this.keys = keys;
      this.mutations = mutations;
    }

    @Override public Set<Map.Entry<Bytes, Mutation>> entrySet() {
      return new AbstractSet<>() {
        @Override public Iterator<Map.Entry<Bytes, Mutation>> iterator() {
          return new Iterator<>() {
            private int next;

            @Override public boolean hasNext() {
              return next < keys.size();
            }

            @Override public Map.Entry<Bytes, Mutation> next() {
              if (next >= keys.size()) {
                throw new NoSuchElementException();
              }
              int i = next++;
              return new AbstractMap.SimpleImmutableEntry<>(keys.get(i), mutations.get(i));
            }
          };
        }

        @Override public int size() {
          return keys.size();
        }
      };
    }

    @Override public Comparator<? super Bytes> comparator() {
      return null; // natural order, as every write set's
    }

    @Override public SortedMap<Bytes, Mutation> subMap(Bytes fromKey, Bytes toKey) {
      throw new UnsupportedOperationException();
    }

    @Override public SortedMap<Bytes, Mutation> headMap(Bytes toKey) {
      throw new UnsupportedOperationException();
    }

    @Override public SortedMap<Bytes, Mutation> tailMap(Bytes fromKey) {
      throw new UnsupportedOperationException();
    }

    @Override public Bytes firstKey() {
      return keys.getFirst();
    }

    @Override public Bytes lastKey() {
      return keys.getLast();
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The writes as a sorted, unmodifiable map. */
  public NavigableMap<Bytes, Mutation> mutations() {
    NavigableMap<Bytes, Mutation> built = mutations;
    if (built == null) {
      Run r = run();
      built = Collections.unmodifiableNavigableMap(new TreeMap<>(new AscendingRun(r.keys(), r.mutations())));
      mutations = built;
    }
    return built;
  }

  /** The run; parsed from the records on first use when the write set was made from them. */
  private Run run() {
    Run r = run;
    if (r == null) {
      r = parse(records);
      run = r;
    }
    return r;
  }

  /** Calls {@code action} on every write, in key order, without building the sorted map if there is none yet. */
  public void forEachInOrder(BiConsumer<? super Bytes, ? super Mutation> action) {
    Run r = run;
    NavigableMap<Bytes, Mutation> sorted = mutations;
    if (r == null && sorted != null) {
      for (Map.Entry<Bytes, Mutation> e : sorted.entrySet()) {
        action.accept(e.getKey(), e.getValue());
      }
      return;
    }
    if (r == null) {
      r = run();
    }
    List<Bytes> keys = r.keys();
    List<Mutation> values = r.mutations();
    for (int i = 0; i < keys.size(); i++) {
      action.accept(keys.get(i), values.get(i));
    }
  }

  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  /** Key and value bytes in all, a measure of the batch's weight. */
  public long byteSize() {
    long w = weight;
    if (w < 0) {
      w = measure()[1];
      weight = w;
    }
    return w;
  }

  /**
   * Bytes of the records form (see the class comment): the kept records' length, or else
   * counted in one walk of the writes.
   */
  public int recordsLength() {
    Records r = records;
    return r != null ? r.length() : checkedLength(measure()[0]);
  }

  /**
   * Writes the records form (see the class comment) into {@code target} from {@code offset}:
   * a copy of the kept records, or else encoded straight into {@code target} without keeping
   * them (a store writing a transaction's writes needs them once, so they are not copied twice).
   */
  public void copyRecordsTo(byte[] target, int offset) {
    Records r = records;
    if (r != null) {
      System.arraycopy(r.array(), r.from(), target, offset, r.length());
    } else {
      fill(target, offset);
    }
  }

  private Records records() {
    Records r = records;
    if (r == null) {
      r = encode();
      records = r;
      weight = r.weight();
    }
    return r;
  }

  /** The record bytes and the key and value bytes of these writes, in one walk. */
  private long[] measure() {
    long[] sizes = {0, 0};
    forEachInOrder((key, mutation) -> {
      int valueLength = mutation instanceof Mutation.Put put ? put.value().length() : -1;
      sizes[0] += 1 + varLongBytes(key.length()) + key.length()
          + (valueLength < 0 ? 0 : varLongBytes(valueLength) + valueLength);
      sizes[1] += key.length() + Math.max(0, valueLength);
    });
    return sizes;
  }

  private static int checkedLength(long bytes) {
    if (bytes > Integer.MAX_VALUE - 16) {
      throw new IllegalStateException("a write set of " + bytes + " bytes is too large to encode");
    }
    return (int) bytes;
  }

  /**
   * The records of these writes, kept: one walk to size them, one to fill an array of exactly
   * that size (a growing buffer would copy a batch of state nodes, a megabyte and more, several
   * times over and once more to trim it).
   */
  private Records encode() {
    long[] sizes = measure();
    byte[] array = new byte[checkedLength(sizes[0])];
    int end = fill(array, 0);
    if (end != array.length) {
      throw new IllegalStateException("records encoded to " + end + " of " + array.length + " bytes");
    }
    return new Records(array, 0, array.length, sizes[1]);
  }

  /** Encodes the records into {@code target} from {@code offset}; returns the offset after them. */
  private int fill(byte[] target, int offset) {
    int[] at = {offset};
    forEachInOrder((key, mutation) -> {
      if (mutation instanceof Mutation.Put put) {
        at[0] = putRecord(target, at[0], key, put.value());
      } else {
        target[at[0]++] = KIND_DELETE;
        at[0] = putLengthPrefixed(target, at[0], key);
      }
    });
    return at[0];
  }

  /** Bytes of one put record of {@code key} and {@code value} in the records form. */
  public static int putRecordLength(Bytes key, Bytes value) {
    return 1 + varLongBytes(key.length()) + key.length() + varLongBytes(value.length()) + value.length();
  }

  /**
   * Writes one put record of {@code key} and {@code value} in the records form at {@code at}
   * (a store appending a write of its own after a write set's records); returns the offset after it.
   */
  public static int putRecord(byte[] target, int at, Bytes key, Bytes value) {
    target[at++] = KIND_PUT;
    return putLengthPrefixed(target, putLengthPrefixed(target, at, key), value);
  }

  /** Writes {@code data}'s length (LEB128) and then {@code data} at {@code at}; returns the offset after it. */
  private static int putLengthPrefixed(byte[] array, int at, Bytes data) {
    int v = data.length();
    while ((v & ~0x7F) != 0) {
      array[at++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    array[at++] = (byte) v;
    System.arraycopy(data.unsafeArray(), 0, array, at, data.length());
    return at + data.length();
  }

  /** No limits but the array's end: records are parsed only after {@link #CODEC} validated them. */
  private static final DecodeLimits VALIDATED = new DecodeLimits(Integer.MAX_VALUE, Integer.MAX_VALUE, 1);

  /** Keys and mutations out of records that {@link #CODEC} has validated. */
  private static Run parse(Records records) {
    Decoder in = new Decoder(records.array(), records.from(), records.length(), VALIDATED);
    List<Bytes> keys = new ArrayList<>();
    List<Mutation> mutations = new ArrayList<>();
    while (in.remaining() > 0) {
      int kind = in.readUnsignedByte();
      keys.add(Bytes.adopt(in.readBytes(in.readLength(Integer.MAX_VALUE, "key length"))));
      if (kind == KIND_PUT) {
        mutations.add(new Mutation.Put(Bytes.adopt(in.readBytes(in.readLength(Integer.MAX_VALUE, "value length")))));
      } else {
        mutations.add(Mutation.Delete.INSTANCE);
      }
    }
    return new Run(keys, mutations);
  }

  private static int varLongBytes(long v) {
    int n = 1;
    while ((v & ~0x7FL) != 0) {
      v >>>= 7;
      n++;
    }
    return n;
  }

  /**
   * The canonical encoding: the count of writes, the length of the records, then the records
   * (see the class comment). Decoding validates the records where they lie (kinds, lengths
   * within the limits, keys strictly ascending, nothing left over) and keeps them there: the
   * write set refers to the decoder's array, which must not change afterwards.
   */
  public static final Codec<WriteSet> CODEC = new Codec<>() {
    private final TypeDescription type = new TypeDescription.Primitive("write-records");

    @Override public TypeDescription type() {
      return type;
    }

    @Override public void encode(WriteSet value, Encoder out) {
      out.writeVarLong(value.size());
      if (value.size() == 0) {
        out.writeVarLong(0);
        return;
      }
      Records r = value.records();
      out.writeVarLong(r.length());
      out.writeBytes(r.array(), r.from(), r.length());
    }

    @Override public WriteSet decode(Decoder in) {
      int count = in.readLength(in.limits().elementsMax(), "write count");
      int length = in.readLength(Integer.MAX_VALUE - 16, "write records length");
      int from = in.skipInPlace(length);
      byte[] array = in.unsafeArray();
      Decoder records = new Decoder(array, from, length, in.limits());
      int bytesMax = in.limits().byteStringBytesMax();
      long weight = 0;
      int previousKey = -1;
      int previousKeyLength = 0;
      for (int i = 0; i < count; i++) {
        int kindAt = records.position();
        int kind = records.readUnsignedByte();
        if (kind != KIND_PUT && kind != KIND_DELETE) {
          throw records.errorAt(DecodeException.Reason.UNKNOWN_TAG, kindAt, "write kind " + kind);
        }
        int keyLength = records.readLength(bytesMax, "key length");
        int key = records.skipInPlace(keyLength);
        if (previousKey >= 0 && Arrays.compareUnsigned(array, previousKey, previousKey + previousKeyLength,
            array, key, key + keyLength) >= 0) {
          throw records.errorAt(DecodeException.Reason.UNSORTED_MAP_KEYS, key, "write set keys must be strictly ascending");
        }
        previousKey = key;
        previousKeyLength = keyLength;
        weight += keyLength;
        if (kind == KIND_PUT) {
          int valueLength = records.readLength(bytesMax, "value length");
          records.skipInPlace(valueLength);
          weight += valueLength;
        }
      }
      records.requireEnd();
      return count == 0 ? EMPTY : new WriteSet(new Records(array, from, from + length, weight), count);
    }
  };

  /** This write set seen on top of {@code base}: its writes win, deletes hide base entries. */
  public ReadView over(ReadView base) {
    WriteSet self = this;
    return new ReadView() {
      @Override public Optional<Bytes> get(Bytes key) {
        Mutation m = hashed != null ? hashed.get(key) : mutations().get(key);
        if (m == null) {
          return base.get(key);
        }
        return m instanceof Mutation.Put put ? Optional.of(put.value()) : Optional.empty();
      }

      @Override public Cursor scan(KeyRange range) {
        return new MergingCursor(base.scan(range), self.slice(range));
      }
    };
  }

  NavigableMap<Bytes, Mutation> slice(KeyRange range) {
    NavigableMap<Bytes, Mutation> all = mutations();
    return range.end() == null ? all.tailMap(range.start(), true) : all.subMap(range.start(), true, range.end(), false);
  }

  /**
   * Collects writes; a later write to the same key replaces the earlier one. Writes are kept by
   * hash and sorted once when built: the state collector builds thousands of deletes of keys in
   * no order, and a sorted insert per key cost more than one sort of them all.
   */
  public static final class Builder {
    private Map<Bytes, Mutation> mutations = new HashMap<>();

    public Builder put(Bytes key, Bytes value) {
      mutations.put(Objects.requireNonNull(key), new Mutation.Put(value));
      return this;
    }

    public Builder delete(Bytes key) {
      mutations.put(Objects.requireNonNull(key), Mutation.Delete.INSTANCE);
      return this;
    }

    public WriteSet build() {
      Map<Bytes, Mutation> built = mutations;
      mutations = new HashMap<>();
      Bytes[] keys = built.keySet().toArray(Bytes[]::new);
      Arrays.sort(keys);
      List<Mutation> values = new ArrayList<>(keys.length);
      for (Bytes key : keys) {
        values.add(built.get(key));
      }
      // The distinct keys of a map, sorted: strictly ascending already, so not checked again.
      return keys.length == 0 ? EMPTY : new WriteSet(Arrays.asList(keys), values);
    }
  }

  /**
   * Merges a base cursor with an overlay of mutations, both in key order: overlay puts
   * replace or add entries, overlay deletes hide them.
   */
  static final class MergingCursor implements Cursor {
    private final Cursor base;
    private final Iterator<Map.Entry<Bytes, Mutation>> overlay;
    private Entry baseHead;
    private Map.Entry<Bytes, Mutation> overlayHead;
    private Entry next;

    MergingCursor(Cursor base, NavigableMap<Bytes, Mutation> overlay) {
      this.base = base;
      this.overlay = overlay.entrySet().iterator();
      this.baseHead = base.hasNext() ? base.next() : null;
      this.overlayHead = this.overlay.hasNext() ? this.overlay.next() : null;
      advance();
    }

    private void advance() {
      next = null;
      while (next == null && (baseHead != null || overlayHead != null)) {
        int order = baseHead == null ? 1 : overlayHead == null ? -1 : baseHead.key().compareTo(overlayHead.getKey());
        if (order < 0) {
          next = baseHead;
          baseHead = base.hasNext() ? base.next() : null;
        } else {
          if (order == 0) {
            baseHead = base.hasNext() ? base.next() : null;
          }
          if (overlayHead.getValue() instanceof Mutation.Put put) {
            next = new Entry(overlayHead.getKey(), put.value());
          }
          overlayHead = overlay.hasNext() ? overlay.next() : null;
        }
      }
    }

    @Override public boolean hasNext() {
      return next != null;
    }

    @Override public Entry next() {
      if (next == null) {
        throw new NoSuchElementException();
      }
      Entry out = next;
      advance();
      return out;
    }

    @Override public void close() {
      base.close();
    }
  }
}
