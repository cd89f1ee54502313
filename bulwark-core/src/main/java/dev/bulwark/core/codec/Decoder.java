package dev.bulwark.core.codec;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.DecodeException.Reason;

/**
 * Reads canonical encodings from a byte array, tracking the offset for error messages and
 * enforcing {@link DecodeLimits}. Every read checks bounds first, so a forged length fails
 * with {@link Reason#TRUNCATED} or {@link Reason#LENGTH_LIMIT} before anything is allocated.
 */
public final class Decoder {
  private final byte[] buffer;
  private final int end;
  private final DecodeLimits limits;
  private int position;
  private int depth;

  public Decoder(Bytes input, DecodeLimits limits) {
    this(input.unsafeArray(), 0, input.length(), limits);
  }

  public Decoder(byte[] buffer, int offset, int length, DecodeLimits limits) {
    this.buffer = buffer;
    this.position = offset;
    this.end = offset + length;
    this.limits = limits;
  }

  public DecodeLimits limits() {
    return limits;
  }

  public int position() {
    return position;
  }

  public int remaining() {
    return end - position;
  }

  public DecodeException error(Reason reason, String detail) {
    return new DecodeException(reason, position, detail);
  }

  public DecodeException errorAt(Reason reason, int offset, String detail) {
    return new DecodeException(reason, offset, detail);
  }

  private void require(int count) {
    if (count > end - position) {
      throw error(Reason.TRUNCATED, "needs " + count + " bytes, " + (end - position) + " left");
    }
  }

  public int readUnsignedByte() {
    require(1);
    return buffer[position++] & 0xFF;
  }

  public int peekUnsignedByte() {
    require(1);
    return buffer[position] & 0xFF;
  }

  public long readLongBigEndian() {
    require(8);
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (buffer[position++] & 0xFF);
    }
    return v;
  }

  public int readIntBigEndian() {
    require(4);
    int v = 0;
    for (int i = 0; i < 4; i++) {
      v = (v << 8) | (buffer[position++] & 0xFF);
    }
    return v;
  }

  /** Unsigned LEB128, rejecting any encoding longer than the minimal one and overflow past 64 bits. */
  public long readVarLong() {
    int start = position;
    long v = 0;
    for (int shift = 0; ; shift += 7) {
      if (shift > 63) {
        throw errorAt(Reason.INTEGER_OUT_OF_RANGE, start, "varint longer than 10 bytes");
      }
      int b = readUnsignedByte();
      if (shift == 63 && b > 1) {
        throw errorAt(Reason.INTEGER_OUT_OF_RANGE, start, "varint exceeds 64 bits");
      }
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && shift > 0) {
          throw errorAt(Reason.NON_MINIMAL_INTEGER, start, "varint has a redundant zero group");
        }
        return v;
      }
    }
  }

  /** A varint used as a length or count: at most {@code max}, checked before any allocation. */
  public int readLength(int max, String what) {
    int start = position;
    long n = readVarLong();
    if (n < 0 || n > max) {
      throw errorAt(Reason.LENGTH_LIMIT, start, what + " of " + Long.toUnsignedString(n) + " exceeds the limit of " + max);
    }
    return (int) n;
  }

  public byte[] readBytes(int count) {
    require(count);
    byte[] out = new byte[count];
    System.arraycopy(buffer, position, out, 0, count);
    position += count;
    return out;
  }

  /** The backing array and current offset, for decoders that scan in place (UTF-8, key escapes). */
  byte[] buffer() {
    return buffer;
  }

  /**
   * The array this decoder reads, for a codec in another package that validates a region in
   * place ({@link #skipInPlace}) instead of copying it out. The caller must not write to it.
   */
  public byte[] unsafeArray() {
    return buffer;
  }

  /**
   * Steps over {@code count} bytes, failing as {@link #readBytes} would if they are not there,
   * and returns the offset in {@link #unsafeArray()} where they start.
   */
  public int skipInPlace(int count) {
    if (count < 0) {
      throw new IllegalArgumentException("negative byte count " + count);
    }
    int start = position;
    skip(count);
    return start;
  }

  void skip(int count) {
    require(count);
    position += count;
  }

  int end() {
    return end;
  }

  /** Enters one level of nesting; fails past {@link DecodeLimits#nestingMax()}. */
  public void enter() {
    if (++depth > limits.nestingMax()) {
      throw error(Reason.LENGTH_LIMIT, "nesting deeper than " + limits.nestingMax());
    }
  }

  public void exit() {
    depth--;
  }

  /** Fails unless every byte was consumed: a canonical encoding has no trailing bytes. */
  public void requireEnd() {
    if (position != end) {
      throw error(Reason.TRAILING_BYTES, (end - position) + " bytes after the value");
    }
  }
}
