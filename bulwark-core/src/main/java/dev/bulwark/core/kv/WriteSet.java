package dev.bulwark.core.kv;

import dev.bulwark.core.Bytes;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The writes a committed transaction makes, in key order, at most one per key. A store
 * applies it as one atomic batch; it is also a {@link ReadView} layer over its base, which
 * is how a batch is processed on top of an earlier batch that has not committed yet.
 *
 * <p>Held as two arrays in key order, which is how stores walk it ({@link #keyAt},
 * {@link #mutationAt}), and a lookup for reads through {@link #over}: the transaction's frozen
 * {@link WriteBuffer} (hashed), or the map the write set was adopted from. {@link #mutations()}
 * is the writes as a navigable map: the adopted map itself, or one built on first use (in
 * linear time, from the arrays).
 */
public final class WriteSet {
  public static final WriteSet EMPTY = new WriteSet(new WriteBuffer());

  private final Bytes[] keys;
  private final Mutation[] values;
  /** Exactly one of these two answers lookups. */
  private final WriteBuffer buffer;
  private final NavigableMap<Bytes, Mutation> adopted;
  private final long encodedBytes;
  private volatile NavigableMap<Bytes, Mutation> asMap;

  private WriteSet(WriteBuffer buffer) {
    this.buffer = buffer;
    this.adopted = null;
    WriteBuffer.Slot[] sorted = buffer.sortedSlots();
    int size = buffer.size();
    keys = new Bytes[size];
    values = new Mutation[size];
    for (int i = 0; i < size; i++) {
      keys[i] = sorted[i].key;
      values[i] = sorted[i].mutation;
    }
    encodedBytes = weigh(keys, values);
  }

  private WriteSet(NavigableMap<Bytes, Mutation> map) {
    this.buffer = null;
    this.adopted = map;
    this.asMap = Collections.unmodifiableNavigableMap(map);
    keys = new Bytes[map.size()];
    values = new Mutation[map.size()];
    int i = 0;
    for (Map.Entry<Bytes, Mutation> e : map.entrySet()) {
      keys[i] = Objects.requireNonNull(e.getKey());
      values[i] = Objects.requireNonNull(e.getValue());
      i++;
    }
    encodedBytes = weigh(keys, values);
  }

  private static long weigh(Bytes[] keys, Mutation[] values) {
    long bytes = 0;
    for (int i = 0; i < keys.length; i++) {
      bytes += keys[i].length() + (values[i] instanceof Mutation.Put put ? put.value().length() : 0);
    }
    return bytes;
  }

  /** Takes ownership of {@code mutations}; the caller must not touch the map again. */
  public static WriteSet adopt(NavigableMap<Bytes, Mutation> mutations) {
    return mutations.isEmpty() ? EMPTY : new WriteSet(mutations);
  }

  /** Takes ownership of {@code buffer}, which nobody may write to again. */
  static WriteSet adopt(WriteBuffer buffer) {
    return buffer.isEmpty() ? EMPTY : new WriteSet(buffer);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The writes as an unmodifiable map in key order (built on first call; stores use {@link #keyAt} instead). */
  public NavigableMap<Bytes, Mutation> mutations() {
    NavigableMap<Bytes, Mutation> map = asMap;
    if (map == null) {
      map = Collections.unmodifiableNavigableMap(new TreeMap<>(new SortedView()));
      asMap = map;
    }
    return map;
  }

  /** The key of the {@code i}-th write in ascending key order, {@code 0 <= i < size()}. */
  public Bytes keyAt(int i) {
    return keys[i];
  }

  /** What the {@code i}-th write in ascending key order does. */
  public Mutation mutationAt(int i) {
    return values[i];
  }

  public int size() {
    return keys.length;
  }

  public boolean isEmpty() {
    return keys.length == 0;
  }

  /** Key and value bytes in all, a measure of the batch's weight. */
  public long byteSize() {
    return encodedBytes;
  }

  /** This write set seen on top of {@code base}: its writes win, deletes hide base entries. */
  public ReadView over(ReadView base) {
    return new ReadView() {
      @Override public Optional<Bytes> get(Bytes key) {
        Mutation m = buffer != null ? buffer.get(key) : adopted.get(key);
        if (m == null) {
          return base.get(key);
        }
        return m instanceof Mutation.Put put ? Optional.of(put.value()) : Optional.empty();
      }

      @Override public Cursor scan(KeyRange range) {
        return new MergingCursor(base.scan(range), slice(range));
      }
    };
  }

  /** The writes in {@code range}, in key order. */
  private Iterator<Map.Entry<Bytes, Mutation>> slice(KeyRange range) {
    int from = lowerBound(range.start());
    int to = range.end() == null ? keys.length : Math.max(from, lowerBound(range.end()));
    return entries(from, to);
  }

  private int lowerBound(Bytes key) {
    int lo = 0;
    int hi = keys.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (keys[mid].compareTo(key) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  private Iterator<Map.Entry<Bytes, Mutation>> entries(int from, int to) {
    return new Iterator<>() {
      private int next = from;

      @Override public boolean hasNext() {
        return next < to;
      }

      @Override public Map.Entry<Bytes, Mutation> next() {
        if (next >= to) {
          throw new NoSuchElementException();
        }
        int i = next++;
        return Map.entry(keys[i], values[i]);
      }
    };
  }

  /**
   * The sorted writes as just enough of a {@link SortedMap} for {@code new TreeMap<>(sortedMap)},
   * which builds its tree from sorted input in linear time (it reads the comparator, the size
   * and the entries in order, nothing else).
   */
  private final class SortedView extends AbstractMap<Bytes, Mutation> implements SortedMap<Bytes, Mutation> {
    @Override public Set<Map.Entry<Bytes, Mutation>> entrySet() {
      return new AbstractSet<>() {
        @Override public Iterator<Map.Entry<Bytes, Mutation>> iterator() {
          return entries(0, keys.length);
        }

        @Override public int size() {
          return keys.length;
        }
      };
    }

    @Override public Comparator<? super Bytes> comparator() {
      return null; // natural order, which is the order of the array
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
      return keyAt(0);
    }

    @Override public Bytes lastKey() {
      return keyAt(keys.length - 1);
    }
  }

  /** Collects writes; a later write to the same key replaces the earlier one. */
  public static final class Builder {
    private WriteBuffer mutations = new WriteBuffer();

    public Builder put(Bytes key, Bytes value) {
      mutations.put(key, new Mutation.Put(value));
      return this;
    }

    public Builder delete(Bytes key) {
      mutations.put(key, Mutation.Delete.INSTANCE);
      return this;
    }

    /** Deletes a key that was put at most once since it was last deleted (see {@link Mutation.Delete}). */
    public Builder singleDelete(Bytes key) {
      mutations.put(key, Mutation.Delete.SINGLE);
      return this;
    }

    public WriteSet build() {
      WriteBuffer built = mutations;
      mutations = new WriteBuffer();
      return adopt(built);
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

    MergingCursor(Cursor base, Iterator<Map.Entry<Bytes, Mutation>> overlay) {
      this.base = base;
      this.overlay = overlay;
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
