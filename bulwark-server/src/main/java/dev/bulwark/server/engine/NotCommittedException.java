package dev.bulwark.server.engine;

/** A batch that will never commit: its requests are answered "not committed, retry". */
public final class NotCommittedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public NotCommittedException(String reason) {
    super(reason);
  }

  public NotCommittedException(String reason, Throwable cause) {
    super(reason, cause);
  }
}
