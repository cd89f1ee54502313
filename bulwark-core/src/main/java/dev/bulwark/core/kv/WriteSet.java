package dev.bulwark.core.kv;

import dev.bulwark.core.Bytes;
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
 */
public final class WriteSet {
  public static final WriteSet EMPTY = new WriteSet(new TreeMap<>());

  /**
   * The writes as a sorted map; for a write set made from an ascending run, built on first use
   * (a follower only writes the run to its store and never needs the map). Racing first uses
   * build equal maps; the volatile write publishes a fully built one.
   */
  private volatile NavigableMap<Bytes, Mutation> mutations;
  /** The writes as parallel lists in key order, when made by {@link #ofAscending}; else null. */
  private final List<Bytes> runKeys;
  private final List<Mutation> runMutations;
  /**
   * The same writes by hash, when the writer kept them so (a transaction does): a read through
   * {@link #over} that misses, the common case for a batch still in flight, is then one hash
   * probe instead of a descent through thousands of keys. Null: reads use the sorted map.
   */
  private final Map<Bytes, Mutation> hashed;
  private final long encodedBytes;

  private WriteSet(NavigableMap<Bytes, Mutation> mutations) {
    this(mutations, null);
  }

  private WriteSet(NavigableMap<Bytes, Mutation> mutations, Map<Bytes, Mutation> hashed) {
    this.mutations = Collections.unmodifiableNavigableMap(mutations);
    this.runKeys = null;
    this.runMutations = null;
    this.hashed = hashed;
    long bytes = 0;
    for (Map.Entry<Bytes, Mutation> e : mutations.entrySet()) {
      bytes += weight(e.getKey(), e.getValue());
    }
    this.encodedBytes = bytes;
  }

  private WriteSet(List<Bytes> runKeys, List<Mutation> runMutations) {
    this.runKeys = runKeys;
    this.runMutations = runMutations;
    this.hashed = null;
    long bytes = 0;
    for (int i = 0; i < runKeys.size(); i++) {
      bytes += weight(runKeys.get(i), runMutations.get(i));
    }
    this.encodedBytes = bytes;
  }

  private static long weight(Bytes key, Mutation mutation) {
    return key.length() + (mutation instanceof Mutation.Put put ? put.value().length() : 0);
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
      built = Collections.unmodifiableNavigableMap(new TreeMap<>(new AscendingRun(runKeys, runMutations)));
      mutations = built;
    }
    return built;
  }

  /** Calls {@code action} on every write, in key order, without building the sorted map if there is none yet. */
  public void forEachInOrder(BiConsumer<? super Bytes, ? super Mutation> action) {
    if (runKeys != null) {
      for (int i = 0; i < runKeys.size(); i++) {
        action.accept(runKeys.get(i), runMutations.get(i));
      }
    } else {
      for (Map.Entry<Bytes, Mutation> e : mutations().entrySet()) {
        action.accept(e.getKey(), e.getValue());
      }
    }
  }

  public int size() {
    return runKeys != null ? runKeys.size() : mutations().size();
  }

  public boolean isEmpty() {
    return size() == 0;
  }

  /** Key and value bytes in all, a measure of the batch's weight. */
  public long byteSize() {
    return encodedBytes;
  }

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
