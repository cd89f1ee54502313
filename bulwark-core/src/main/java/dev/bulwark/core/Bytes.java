package dev.bulwark.core;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * An immutable byte string, ordered by unsigned lexicographic comparison: the order a
 * store keeps its keys in. Keys, values and encodings cross module boundaries as
 * {@code Bytes}, never as a raw array someone else may still be writing.
 *
 * <p>{@link #adopt(byte[])} and {@link #unsafeArray()} skip the defensive copy for hot
 * paths (codecs, store backends); their callers promise not to modify the array.
 */
public final class Bytes implements Comparable<Bytes> {
  private static final HexFormat HEX = HexFormat.of();
  public static final Bytes EMPTY = new Bytes(new byte[0]);

  private final byte[] bytes;
  private int hash; // 0 means not computed yet; Arrays.hashCode is cheap enough to redo when 0

  private Bytes(byte[] bytes) {
    this.bytes = bytes;
  }

  /** A copy of {@code bytes}. */
  public static Bytes of(byte... bytes) {
    return bytes.length == 0 ? EMPTY : new Bytes(bytes.clone());
  }

  /** A copy of {@code length} bytes from {@code offset}; fails unless all of them are in {@code bytes}. */
  public static Bytes of(byte[] bytes, int offset, int length) {
    // Arrays.copyOfRange pads with zeros past the end instead of failing.
    Objects.checkFromIndexSize(offset, length, bytes.length);
    return length == 0 ? EMPTY : new Bytes(Arrays.copyOfRange(bytes, offset, offset + length));
  }

  /** Takes ownership of {@code bytes} without copying; the caller must never modify it again. */
  public static Bytes adopt(byte[] bytes) {
    return bytes.length == 0 ? EMPTY : new Bytes(bytes);
  }

  public static Bytes fromHex(String hex) {
    return adopt(HEX.parseHex(hex));
  }

  public static Bytes utf8(String text) {
    return adopt(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  public int length() {
    return bytes.length;
  }

  public boolean isEmpty() {
    return bytes.length == 0;
  }

  public byte at(int index) {
    return bytes[index];
  }

  /** A fresh copy of the contents. */
  public byte[] toByteArray() {
    return bytes.clone();
  }

  /** The backing array, shared: read it, never write it. */
  public byte[] unsafeArray() {
    return bytes;
  }

  public Bytes slice(int from, int to) {
    return of(bytes, from, to - from);
  }

  public Bytes concat(Bytes other) {
    if (other.bytes.length == 0) {
      return this;
    }
    byte[] joined = Arrays.copyOf(bytes, bytes.length + other.bytes.length);
    System.arraycopy(other.bytes, 0, joined, bytes.length, other.bytes.length);
    return new Bytes(joined);
  }

  public boolean startsWith(Bytes prefix) {
    return prefix.bytes.length <= bytes.length
        && Arrays.equals(bytes, 0, prefix.bytes.length, prefix.bytes, 0, prefix.bytes.length);
  }

  /**
   * The smallest byte string greater than every string that starts with this one, or
   * {@code null} when there is none (this is empty or all 0xFF): the exclusive end of a
   * prefix scan.
   */
  public Bytes prefixEnd() {
    for (int i = bytes.length - 1; i >= 0; i--) {
      if (bytes[i] != (byte) 0xFF) {
        byte[] end = Arrays.copyOf(bytes, i + 1);
        end[i]++;
        return new Bytes(end);
      }
    }
    return null;
  }

  public String hex() {
    return HEX.formatHex(bytes);
  }

  @Override
  public int compareTo(Bytes other) {
    return Arrays.compareUnsigned(bytes, other.bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Bytes other && Arrays.equals(bytes, other.bytes);
  }

  @Override
  public int hashCode() {
    int h = hash;
    if (h == 0) {
      h = Arrays.hashCode(bytes);
      hash = h;
    }
    return h;
  }

  @Override
  public String toString() {
    return bytes.length <= 64 ? hex() : HEX.formatHex(bytes, 0, 64) + "…(" + bytes.length + " bytes)";
  }
}
