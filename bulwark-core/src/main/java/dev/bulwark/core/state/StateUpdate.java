package dev.bulwark.core.state;

import dev.bulwark.core.Bytes;
import java.util.Objects;
import java.util.Optional;

/** Set {@code key} to {@code value}, or remove it when the value is empty. Keys and values are canonical encodings. */
public record StateUpdate(Bytes key, Optional<Bytes> value) {
  public StateUpdate {
    Objects.requireNonNull(key);
    Objects.requireNonNull(value);
  }

  public static StateUpdate put(Bytes key, Bytes value) {
    return new StateUpdate(key, Optional.of(value));
  }

  public static StateUpdate delete(Bytes key) {
    return new StateUpdate(key, Optional.empty());
  }
}
