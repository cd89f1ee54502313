package dev.bulwark.core.codec;

import dev.bulwark.core.Bytes;
import java.util.Arrays;

/** A growable output buffer that codecs write into. Not thread-safe; cheap to create. */
public final class Encoder {
  private byte[] buffer;
  private int size;

  public Encoder() {
    this(64);
  }

  /**
   * One scratch encoder per thread for {@link Codec#encode(Object)}: a value is encoded into it
   * and copied out at its exact size, instead of into a fresh 64-byte buffer grown by doubling
   * and then copied anyway. A nested {@code encode} (a codec that encodes a part on its own)
   * finds the scratch borrowed and gets a fresh encoder.
   */
  private static final int SCRATCH_BYTES = 512;
  private static final ThreadLocal<Encoder> SCRATCH = ThreadLocal.withInitial(() -> new Encoder(SCRATCH_BYTES));
  /** A scratch buffer grown past this by a big value is dropped afterwards, not kept per thread. */
  private static final int SCRATCH_BYTES_KEPT_MAX = 64 << 10;
  private boolean borrowed;

  static Encoder borrowScratch() {
    Encoder scratch = SCRATCH.get();
    if (scratch.borrowed) {
      return new Encoder();
    }
    scratch.borrowed = true;
    scratch.size = 0;
    return scratch;
  }

  static void returnScratch(Encoder encoder) {
    if (encoder.borrowed) {
      encoder.borrowed = false;
      encoder.size = 0;
      if (encoder.buffer.length > SCRATCH_BYTES_KEPT_MAX) {
        encoder.buffer = new byte[SCRATCH_BYTES];
      }
    }
  }

  public Encoder(int initialCapacity) {
    buffer = new byte[Math.max(16, initialCapacity)];
  }

  private void ensure(int extra) {
    int needed = size + extra;
    if (needed < 0) {
      throw new IllegalStateException("encoding exceeds 2 GiB");
    }
    if (needed > buffer.length) {
      buffer = Arrays.copyOf(buffer, Math.max(needed, buffer.length * 2));
    }
  }

  public int size() {
    return size;
  }

  public Encoder writeByte(int b) {
    ensure(1);
    buffer[size++] = (byte) b;
    return this;
  }

  public Encoder writeBytes(byte[] bytes) {
    return writeBytes(bytes, 0, bytes.length);
  }

  public Encoder writeBytes(byte[] bytes, int offset, int length) {
    ensure(length);
    System.arraycopy(bytes, offset, buffer, size, length);
    size += length;
    return this;
  }

  public Encoder writeBytes(Bytes bytes) {
    return writeBytes(bytes.unsafeArray());
  }

  /** Eight bytes, most significant first. */
  public Encoder writeLongBigEndian(long v) {
    ensure(8);
    for (int shift = 56; shift >= 0; shift -= 8) {
      buffer[size++] = (byte) (v >>> shift);
    }
    return this;
  }

  /** Four bytes, most significant first. */
  public Encoder writeIntBigEndian(int v) {
    ensure(4);
    for (int shift = 24; shift >= 0; shift -= 8) {
      buffer[size++] = (byte) (v >>> shift);
    }
    return this;
  }

  /** Unsigned LEB128: seven bits a byte, least significant group first, minimal length. */
  public Encoder writeVarLong(long v) {
    ensure(10);
    while ((v & ~0x7FL) != 0) {
      buffer[size++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    buffer[size++] = (byte) v;
    return this;
  }

  public Bytes toBytes() {
    return Bytes.adopt(Arrays.copyOf(buffer, size));
  }

  public byte[] toByteArray() {
    return Arrays.copyOf(buffer, size);
  }

  /** Forgets the contents and keeps the buffer, for reuse on a hot path. */
  public void reset() {
    size = 0;
  }
}
