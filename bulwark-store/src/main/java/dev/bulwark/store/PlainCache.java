package dev.bulwark.store;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A bounded cache of immutable values under plain byte-string keys, for the hottest traffic
 * (state trie nodes: every update looks up, adds and later drops a few). Open addressing
 * with linear probing over primitive arrays, so a lookup is a probe of a {@code long[]} of
 * 64-bit key hashes; CLOCK eviction by encoded weight; backward-shift deletion, so there are
 * no tombstones.
 *
 * <p><b>Keys are their 64-bit hash.</b> The key bytes are not kept or compared (that was one
 * more cache miss per lookup, and tens of bytes per entry): two keys with one hash share an
 * entry. So a caller must check what it gets (state nodes are checked against the hash their
 * parent holds) and treat a wrong value as a miss; by chance that happens about once in 2^64. A general-purpose concurrent cache spends several
 * times that per operation on its policy (read and write buffers, access-order queues, a
 * frequency sketch), which is what a batch of trie updates was mostly made of.
 *
 * <p>One lock guards everything: the writer takes it a few times per update and readers
 * rarely. Loading a missing value happens outside the lock.
 */
final class PlainCache {
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final int CAPACITY_MIN = 1 << 10;

  private final long weightMax;
  private long[] tags;
  private Object[] values;
  private int[] weights;
  private boolean[] referenced;
  private int size;
  private long weight;
  private int hand;
  private long hits;
  private long misses;
  private long evictions;

  PlainCache(long weightMax) {
    this.weightMax = weightMax;
    allocate(CAPACITY_MIN);
  }

  private void allocate(int capacity) {
    tags = new long[capacity];
    values = new Object[capacity];
    weights = new int[capacity];
    referenced = new boolean[capacity];
  }

  /** A 64-bit hash of the whole key; never 0 (0 marks an empty slot in {@link #tags}). */
  static long tag(byte[] key) {
    long h = 0x9E3779B97F4A7C15L ^ key.length;
    int i = 0;
    for (; i + 8 <= key.length; i += 8) {
      h = Long.rotateLeft((h ^ (long) LONGS.get(key, i)) * 0xC2B2AE3D27D4EB4FL, 31);
    }
    for (; i < key.length; i++) {
      h = Long.rotateLeft((h ^ (key[i] & 0xFF)) * 0x9E3779B97F4A7C15L, 27);
    }
    h ^= h >>> 33;
    h *= 0xFF51AFD7ED558CCDL;
    h ^= h >>> 33;
    return h == 0 ? 1 : h;
  }

  private int slot(long tag) {
    int mask = tags.length - 1;
    int i = (int) tag & mask;
    while (tags[i] != 0 && tags[i] != tag) {
      i = (i + 1) & mask;
    }
    return i;
  }

  /** The value under the key whose {@link #tag} is {@code tag}, or {@code null}. */
  synchronized Object get(long tag) {
    int i = slot(tag);
    if (tags[i] == 0) {
      misses++;
      return null;
    }
    hits++;
    referenced[i] = true;
    return values[i];
  }

  /** Adds or replaces the value under {@code tag}, evicting others while over the bound. */
  synchronized void put(long tag, Object value, int valueWeight) {
    if (valueWeight > weightMax) {
      return;
    }
    int i = slot(tag);
    if (tags[i] != 0) {
      weight += valueWeight - weights[i];
      values[i] = value;
      weights[i] = valueWeight;
    } else {
      tags[i] = tag;
      values[i] = value;
      weights[i] = valueWeight;
      referenced[i] = false; // earns its place by being read
      size++;
      weight += valueWeight;
      if (size * 2 > tags.length) {
        grow();
      }
    }
    evictWhileOver();
  }

  /** Drops the value under {@code tag}, if any. */
  synchronized void remove(long tag) {
    int i = slot(tag);
    if (tags[i] != 0) {
      delete(i);
    }
  }

  synchronized void clear() {
    allocate(CAPACITY_MIN);
    size = 0;
    weight = 0;
    hand = 0;
  }

  private void evictWhileOver() {
    // Bounded: each step either clears a reference bit or evicts, and there are at most
    // capacity set bits, so two sweeps evict something whenever anything is left.
    long steps = 0;
    long stepsMax = 4L * tags.length + 4;
    while (weight > weightMax && size > 0 && steps++ < stepsMax) {
      int i = hand;
      if (tags[i] == 0) {
        hand = (hand + 1) & (tags.length - 1);
      } else if (referenced[i]) {
        referenced[i] = false;
        hand = (hand + 1) & (tags.length - 1);
      } else {
        delete(i); // the next entry may shift into slot i: look at it again
        evictions++;
      }
    }
  }

  private void delete(int i) {
    weight -= weights[i];
    size--;
    int mask = tags.length - 1;
    int hole = i;
    int j = (i + 1) & mask;
    while (tags[j] != 0) {
      int home = (int) tags[j] & mask;
      boolean movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        tags[hole] = tags[j];
        values[hole] = values[j];
        weights[hole] = weights[j];
        referenced[hole] = referenced[j];
        hole = j;
      }
      j = (j + 1) & mask;
    }
    tags[hole] = 0;
    values[hole] = null;
    weights[hole] = 0;
    referenced[hole] = false;
  }

  private void grow() {
    long[] oldTags = tags;
    Object[] oldValues = values;
    int[] oldWeights = weights;
    boolean[] oldReferenced = referenced;
    allocate(oldTags.length * 2);
    int mask = tags.length - 1;
    for (int o = 0; o < oldTags.length; o++) {
      if (oldTags[o] != 0) {
        int i = (int) oldTags[o] & mask;
        while (tags[i] != 0) {
          i = (i + 1) & mask;
        }
        tags[i] = oldTags[o];
        values[i] = oldValues[o];
        weights[i] = oldWeights[o];
        referenced[i] = oldReferenced[o];
      }
    }
    hand = 0;
  }

  synchronized long hits() {
    return hits;
  }

  synchronized long misses() {
    return misses;
  }

  synchronized long evictions() {
    return evictions;
  }

  synchronized long weight() {
    return weight;
  }

  synchronized int size() {
    return size;
  }
}
