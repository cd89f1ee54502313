package dev.bulwark.client;

/** The replica answered an application query with an error (an unknown query, a bad argument). */
public final class QueryFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String code;

  public QueryFailedException(String code, String message) {
    super(code + ": " + message);
    this.code = code;
  }

  public String code() {
    return code;
  }
}
