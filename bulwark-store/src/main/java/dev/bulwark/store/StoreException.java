package dev.bulwark.store;

/**
 * A store operation failed for a reason outside the program: I/O error, disk full, the
 * directory locked by another process, a database made by an incompatible build.
 */
public class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreException(String message) {
    super(message);
  }

  public StoreException(String message, Throwable cause) {
    super(message + (cause.getMessage() != null ? ": " + cause.getMessage() : ""), cause);
  }
}
