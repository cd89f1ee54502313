package dev.bulwark.core.kv;

import dev.bulwark.core.Bytes;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Objects;

/**
 * Writes to distinct keys, the last write per key kept: a hash map for lookups, and the keys in
 * the order they were first written, sorted only when an ordered walk is asked for.
 *
 * <p>Why not a {@code TreeMap}: a transaction staging a state version writes thousands of keys
 * that share long prefixes (table id, version), each a descent of a dozen key comparisons and
 * pointer chases; a hash lookup and one sort of an array at the end cost a fraction of that.
 * Sorting is incremental: the sorted prefix is kept, so a scan in the middle of a transaction
 * pays for the keys written since the last one (the sort merges the runs).
 *
 * <p>Not thread-safe; once frozen into a {@link WriteSet} it is only read.
 */
final class WriteBuffer {
  /** One key's current write; overwrites change {@code mutation} in place. */
  static final class Slot {
    final Bytes key;
    Mutation mutation;

    Slot(Bytes key, Mutation mutation) {
      this.key = key;
      this.mutation = mutation;
    }
  }

  private static final Comparator<Slot> BY_KEY = (a, b) -> a.key.compareTo(b.key);
  private static final Slot[] NO_SLOTS = new Slot[0];

  private final HashMap<Bytes, Slot> byKey = new HashMap<>();
  /** Slots in first-write order, except that {@code [0, sorted)} is in ascending key order. */
  private Slot[] slots = NO_SLOTS;
  private int size;
  private int sorted;

  Mutation get(Bytes key) {
    Slot slot = byKey.get(key);
    return slot == null ? null : slot.mutation;
  }

  void put(Bytes key, Mutation mutation) {
    Objects.requireNonNull(key);
    Objects.requireNonNull(mutation);
    Slot slot = byKey.get(key);
    if (slot != null) {
      slot.mutation = mutation;
      return;
    }
    slot = new Slot(key, mutation);
    byKey.put(key, slot);
    if (size == slots.length) {
      slots = Arrays.copyOf(slots, Math.max(16, size * 2));
    }
    slots[size++] = slot;
  }

  /** Writes every write of {@code inner} over this buffer's. */
  void putAll(WriteBuffer inner) {
    for (int i = 0; i < inner.size; i++) {
      Slot slot = inner.slots[i];
      put(slot.key, slot.mutation);
    }
  }

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** The slots in ascending key order: {@code [0, size())} of the returned array, which the caller must not change. */
  Slot[] sortedSlots() {
    if (sorted < size) {
      Arrays.sort(slots, 0, size, BY_KEY);
      sorted = size;
    }
    return slots;
  }

  /** The index of the first sorted slot whose key is at or after {@code key} (call {@link #sortedSlots} first). */
  int lowerBound(Bytes key) {
    int lo = 0;
    int hi = size;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (slots[mid].key.compareTo(key) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** The sorted slots' index range {@code [from, to)} that {@code range} covers. */
  int[] bounds(KeyRange range) {
    sortedSlots();
    int from = lowerBound(range.start());
    int to = range.end() == null ? size : Math.max(from, lowerBound(range.end()));
    return new int[] {from, to};
  }
}
