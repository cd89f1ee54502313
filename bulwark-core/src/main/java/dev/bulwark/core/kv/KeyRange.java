package dev.bulwark.core.kv;

import dev.bulwark.core.Bytes;
import java.util.Objects;

/**
 * A half-open key range [start, end); a {@code null} end means "to the last key".
 */
public record KeyRange(Bytes start, Bytes end) {
  public static final KeyRange ALL = new KeyRange(Bytes.EMPTY, null);

  public KeyRange {
    Objects.requireNonNull(start);
    if (end != null && end.compareTo(start) < 0) {
      throw new IllegalArgumentException("range end " + end + " is before its start " + start);
    }
  }

  /** Every key that starts with {@code prefix}. */
  public static KeyRange prefix(Bytes prefix) {
    return new KeyRange(prefix, prefix.prefixEnd());
  }

  public boolean contains(Bytes key) {
    return key.compareTo(start) >= 0 && (end == null || key.compareTo(end) < 0);
  }
}
