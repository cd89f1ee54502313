package dev.bulwark.client;

import dev.bulwark.core.protocol.Outcome;
import java.util.Optional;

/**
 * No definite answer within the request timeout. The request may or may not have been applied:
 * the last answer says what was seen. Retrying with the same lane and sequence is safe.
 */
public final class RequestTimeoutException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Outcome lastOutcome;

  public RequestTimeoutException(String message, Outcome lastOutcome) {
    super(message);
    this.lastOutcome = lastOutcome;
  }

  public Optional<Outcome> lastOutcome() {
    return Optional.ofNullable(lastOutcome);
  }
}
