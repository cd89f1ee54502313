package dev.bulwark.core.json;

/** JSON that is malformed, or well-formed but not the shape a document must have. */
public final class JsonException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public JsonException(String message) {
    super(message);
  }
}
