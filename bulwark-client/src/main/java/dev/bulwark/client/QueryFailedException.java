package dev.bulwark.client;

/** The replica answered a query with an error (an unknown query, a bad argument, busy, not current). */
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

  /**
   * Whether another replica (or this one, a moment later) may answer: this one was busy, or
   * could not confirm that its state is current (no leader reachable for the read's barrier).
   */
  public boolean retryElsewhere() {
    return code.equals("BUSY") || code.equals("READ_UNAVAILABLE");
  }
}
