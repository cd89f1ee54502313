package dev.bulwark.core.codec;

/**
 * Bounds that hold while decoding untrusted bytes, so a forged length can never make the
 * decoder allocate more than these allow.
 *
 * @param byteStringBytesMax the longest byte or UTF-8 string, in bytes
 * @param elementsMax the most elements in one list or entries in one map
 * @param nestingMax the deepest nesting of lists, maps, optionals, records and unions
 */
public record DecodeLimits(int byteStringBytesMax, int elementsMax, int nestingMax) {
  /** 16 MiB strings, a million elements, 64 levels: generous for stored data. */
  public static final DecodeLimits DEFAULT = new DecodeLimits(16 << 20, 1 << 20, 64);

  public DecodeLimits {
    if (byteStringBytesMax < 0 || elementsMax < 0 || nestingMax < 1) {
      throw new IllegalArgumentException(
          "decode limits must be non-negative and nesting at least 1: " + byteStringBytesMax + ", "
              + elementsMax + ", " + nestingMax);
    }
  }
}
