package dev.bulwark.core;

/**
 * Stored bytes that fail their own checks: a content-addressed value whose digest no longer
 * matches, or stored bytes that no longer decode. This is never returned as data; a server
 * that meets it stops, since its state can no longer be trusted.
 */
public final class CorruptionException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String location;

  public CorruptionException(String location, String detail) {
    super("storage corruption at " + location + ": " + detail);
    this.location = location;
  }

  public CorruptionException(String location, String detail, Throwable cause) {
    super("storage corruption at " + location + ": " + detail, cause);
    this.location = location;
  }

  /** The key (or other place) whose bytes are corrupt. */
  public String location() {
    return location;
  }
}
