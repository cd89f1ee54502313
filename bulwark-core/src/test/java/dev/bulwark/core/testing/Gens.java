package dev.bulwark.core.testing;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Random value generators over a {@link SplittableRandom}, skewed towards the values that
 * break encoders: boundaries of each varint width, sign boundaries, 0x00 and 0xFF bytes,
 * NUL characters, the edges of each UTF-8 width, supplementary code points and emoji.
 */
public final class Gens {
  private Gens() {}

  private static final long[] EDGE_LONGS = {
    0, 1, -1, 2, -2, 63, 64, -64, -65, 127, 128, 255, 256, 16_383, 16_384, 2_097_151, 2_097_152,
    Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE + 1L, Integer.MIN_VALUE - 1L, 0xFFFF_FFFFL,
    1L << 56, (1L << 56) - 1, 1L << 62, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 1, Long.MIN_VALUE + 1
  };

  private static final int[] EDGE_INTS = {
    0, 1, -1, 127, 128, 255, 256, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455, 268_435_456,
    Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE - 1, Integer.MIN_VALUE + 1
  };

  private static final byte[] EDGE_BYTES = {0x00, 0x01, 0x7F, (byte) 0x80, (byte) 0xFE, (byte) 0xFF};

  private static final int[] EDGE_CODE_POINTS = {
    0x00, 0x01, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFE, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF
  };

  public static long anyLong(SplittableRandom r) {
    return switch (r.nextInt(4)) {
      case 0 -> EDGE_LONGS[r.nextInt(EDGE_LONGS.length)];
      case 1 -> r.nextLong(-1000, 1000);
      case 2 -> r.nextLong() >> r.nextInt(64); // any magnitude, either sign
      default -> r.nextLong();
    };
  }

  public static int anyInt(SplittableRandom r) {
    return switch (r.nextInt(4)) {
      case 0 -> EDGE_INTS[r.nextInt(EDGE_INTS.length)];
      case 1 -> r.nextInt(-1000, 1000);
      case 2 -> r.nextInt() >> r.nextInt(32);
      default -> r.nextInt();
    };
  }

  /** 0 to {@link Integer#MAX_VALUE}, spread over every varint width. */
  public static int nonNegativeInt(SplittableRandom r) {
    return r.nextInt(4) == 0 ? EDGE_INTS[r.nextInt(EDGE_INTS.length)] & Integer.MAX_VALUE
        : r.nextInt() >>> (1 + r.nextInt(31));
  }

  /** A size in [0, max], often 0 or tiny. */
  public static int size(SplittableRandom r, int max) {
    return r.nextInt(3) == 0 ? r.nextInt(Math.min(max, 2) + 1) : r.nextInt(max + 1);
  }

  public static byte anyByte(SplittableRandom r) {
    return r.nextInt(3) == 0 ? EDGE_BYTES[r.nextInt(EDGE_BYTES.length)] : (byte) r.nextInt(256);
  }

  public static byte[] byteArray(SplittableRandom r, int length) {
    byte[] out = new byte[length];
    for (int i = 0; i < length; i++) {
      out[i] = anyByte(r);
    }
    return out;
  }

  public static Bytes bytes(SplittableRandom r, int maxLength) {
    return Bytes.adopt(byteArray(r, size(r, maxLength)));
  }

  /** Bytes over a tiny alphabet, so that pairs often share prefixes and escapes. */
  public static Bytes bytesFrom(SplittableRandom r, int maxLength, byte... alphabet) {
    byte[] out = new byte[size(r, maxLength)];
    for (int i = 0; i < out.length; i++) {
      out[i] = alphabet[r.nextInt(alphabet.length)];
    }
    return Bytes.adopt(out);
  }

  public static Digest digest(SplittableRandom r) {
    return Digest.of(byteArray(r, Digest.LENGTH));
  }

  /** A Unicode scalar value (never a surrogate), from every UTF-8 width. */
  public static int codePoint(SplittableRandom r) {
    return switch (r.nextInt(7)) {
      case 0 -> r.nextInt(0x20, 0x7F); // printable ASCII
      case 1 -> r.nextInt(4) == 0 ? 0 : r.nextInt(0x00, 0x20); // NUL and controls
      case 2 -> r.nextInt(0x80, 0x800); // two bytes
      case 3 -> { // three bytes, skipping the surrogate block
        int cp = r.nextInt(0x800, 0x10000 - 0x800);
        yield cp >= 0xD800 ? cp + 0x800 : cp;
      }
      case 4 -> r.nextInt(0x10000, 0x110000); // four bytes
      case 5 -> r.nextInt(0x1F300, 0x1FB00); // emoji
      default -> EDGE_CODE_POINTS[r.nextInt(EDGE_CODE_POINTS.length)];
    };
  }

  public static String string(SplittableRandom r, int maxCodePoints) {
    int n = size(r, maxCodePoints);
    StringBuilder out = new StringBuilder(n * 2);
    for (int i = 0; i < n; i++) {
      out.appendCodePoint(codePoint(r));
    }
    return out.toString();
  }

  /** A string over the given code points only, so that pairs often share prefixes. */
  public static String stringFrom(SplittableRandom r, int maxCodePoints, int... codePoints) {
    int n = size(r, maxCodePoints);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < n; i++) {
      out.appendCodePoint(codePoints[r.nextInt(codePoints.length)]);
    }
    return out.toString();
  }

  public static <T> List<T> listOf(SplittableRandom r, int maxSize, Function<SplittableRandom, T> element) {
    int n = size(r, maxSize);
    List<T> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(element.apply(r));
    }
    return out;
  }

  public static <T> Optional<T> optionalOf(SplittableRandom r, Function<SplittableRandom, T> element) {
    return r.nextBoolean() ? Optional.of(element.apply(r)) : Optional.empty();
  }

  public static <K, V> Map<K, V> mapOf(SplittableRandom r, int maxSize, Function<SplittableRandom, K> key,
      Function<SplittableRandom, V> value) {
    int n = size(r, maxSize);
    Map<K, V> out = new HashMap<>();
    for (int i = 0; i < n; i++) {
      out.put(key.apply(r), value.apply(r));
    }
    return out;
  }
}
