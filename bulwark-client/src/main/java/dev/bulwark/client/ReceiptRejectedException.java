package dev.bulwark.client;

/**
 * A replica confirmed a request with a receipt that does not verify, or that does not match
 * the request or its result: the operator's answer cannot be trusted. Never retried.
 */
public final class ReceiptRejectedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ReceiptRejectedException(String message) {
    super(message);
  }
}
