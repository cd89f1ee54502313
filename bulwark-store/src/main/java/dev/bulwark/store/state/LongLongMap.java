package dev.bulwark.store.state;

/**
 * An open-addressing map from long to long with linear probing and backward-shift deletion:
 * no boxing, two arrays, one cache line per probe in the common case. The collector's index of
 * recent node creations holds hundreds of thousands of entries and is touched several times per
 * state update; as a {@code HashMap<Long, Long>} it cost more than the trie work itself.
 * Not thread-safe: the state store guards it with its lock.
 */
final class LongLongMap {
  private static final long EMPTY = 0;
  private long[] keys;
  private long[] values;
  private int size;
  private boolean hasZeroKey;
  private long zeroValue;

  LongLongMap(int expected) {
    int capacity = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
    keys = new long[capacity];
    values = new long[capacity];
  }

  int size() {
    return size + (hasZeroKey ? 1 : 0);
  }

  private static int mix(long key) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32));
  }

  private int slot(long key) {
    int mask = keys.length - 1;
    int i = mix(key) & mask;
    while (keys[i] != EMPTY && keys[i] != key) {
      i = (i + 1) & mask;
    }
    return i;
  }

  /** The value for {@code key}, or {@code absent}. */
  long get(long key, long absent) {
    if (key == EMPTY) {
      return hasZeroKey ? zeroValue : absent;
    }
    int i = slot(key);
    return keys[i] == key ? values[i] : absent;
  }

  /** Stores the larger of {@code value} and the current value. */
  void mergeMax(long key, long value) {
    if (key == EMPTY) {
      zeroValue = hasZeroKey ? Math.max(zeroValue, value) : value;
      hasZeroKey = true;
      return;
    }
    int i = slot(key);
    if (keys[i] == key) {
      values[i] = Math.max(values[i], value);
      return;
    }
    keys[i] = key;
    values[i] = value;
    if (++size * 10 > keys.length * 6) {
      grow();
    }
  }

  /** Removes {@code key} if it maps to exactly {@code value}. */
  void remove(long key, long value) {
    if (key == EMPTY) {
      if (hasZeroKey && zeroValue == value) {
        hasZeroKey = false;
      }
      return;
    }
    int i = slot(key);
    if (keys[i] != key || values[i] != value) {
      return;
    }
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    int mask = keys.length - 1;
    int hole = i;
    int j = (i + 1) & mask;
    while (keys[j] != EMPTY) {
      int home = mix(keys[j]) & mask;
      boolean movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        keys[hole] = keys[j];
        values[hole] = values[j];
        hole = j;
      }
      j = (j + 1) & mask;
    }
    keys[hole] = EMPTY;
    values[hole] = 0;
    size--;
  }

  private void grow() {
    long[] oldKeys = keys;
    long[] oldValues = values;
    keys = new long[oldKeys.length * 2];
    values = new long[oldValues.length * 2];
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] != EMPTY) {
        int s = slot(oldKeys[i]);
        keys[s] = oldKeys[i];
        values[s] = oldValues[i];
        size++;
      }
    }
  }
}
