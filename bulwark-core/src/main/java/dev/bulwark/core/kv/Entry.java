package dev.bulwark.core.kv;

import dev.bulwark.core.Bytes;
import java.util.Objects;

/** One key and its value. */
public record Entry(Bytes key, Bytes value) {
  public Entry {
    Objects.requireNonNull(key);
    Objects.requireNonNull(value);
  }
}
