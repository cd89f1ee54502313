package dev.bulwark.core.app;

import java.util.Objects;

/** The verdict of a validation step: go on, or reject with a typed reason. */
public sealed interface Check {
  Check OK = new Ok();

  record Ok() implements Check {}

  /**
   * @param code a stable, machine-readable reason (for example {@code INSUFFICIENT_FUNDS})
   * @param message one line for people
   */
  record Rejected(String code, String message) implements Check {
    public Rejected {
      Objects.requireNonNull(code);
      Objects.requireNonNull(message);
    }
  }

  static Check reject(String code, String message) {
    return new Rejected(code, message);
  }
}
