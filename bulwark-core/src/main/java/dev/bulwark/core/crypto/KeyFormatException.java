package dev.bulwark.core.crypto;

/**
 * Text or bytes that are not an Ed25519 key in a form Bulwark accepts: a PEM block with the
 * wrong label, bad base64, another algorithm's DER, a wrong length, or 32 bytes that are not
 * a valid public point. Keys come from files and from users pasting them, so this is an
 * operating error: callers report the one-line message and carry on, they never crash on it.
 *
 * <p>It is an {@link IllegalArgumentException}, so code that only cares "bad argument" can
 * catch that. Messages never contain secret key material.
 */
public final class KeyFormatException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public KeyFormatException(String message) {
    super(message);
  }
}
