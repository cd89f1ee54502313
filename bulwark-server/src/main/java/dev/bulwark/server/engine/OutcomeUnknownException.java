package dev.bulwark.server.engine;

/**
 * A batch handed to replication whose fate is not known: leadership moved after it was
 * appended, so the next leader may still commit it. Its requests are answered
 * {@link Outcome.Unknown}; their retries find out.
 */
public final class OutcomeUnknownException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public OutcomeUnknownException(String reason, Throwable cause) {
    super(reason, cause);
  }
}
