package dev.bulwark.core.app;

/**
 * Thrown by {@link Application#apply} when a request cannot be applied to the current state
 * (insufficient funds, a stale nonce): the engine rolls back that request's savepoint alone
 * and confirms the rejection. Not for bugs: anything else thrown from apply stops the batch.
 */
public final class Rejection extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String code;

  public Rejection(String code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public String code() {
    return code;
  }

  public Check.Rejected toCheck() {
    return new Check.Rejected(code, getMessage());
  }
}
