package dev.bulwark.core.codec;

/**
 * Input that is not the one canonical encoding of a value. Bad bytes come from outside
 * (clients, peers, disks), so this is an operating error: callers catch it and answer,
 * they never crash on it. {@link #reason()} says what is wrong and {@link #offset()}
 * where, counted from the start of the decoded buffer.
 */
public final class DecodeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What made the input invalid. */
  public enum Reason {
    TRUNCATED,
    TRAILING_BYTES,
    NON_MINIMAL_INTEGER,
    INTEGER_OUT_OF_RANGE,
    INVALID_BOOLEAN,
    INVALID_OPTIONAL_TAG,
    INVALID_UTF8,
    INVALID_KEY_ESCAPE,
    UNSORTED_MAP_KEYS,
    DUPLICATE_MAP_KEY,
    UNKNOWN_TAG,
    LENGTH_LIMIT,
    INVALID_VALUE
  }

  private final Reason reason;
  private final long offset;

  public DecodeException(Reason reason, long offset, String detail) {
    super(reason + " at byte " + offset + ": " + detail);
    this.reason = reason;
    this.offset = offset;
  }

  public Reason reason() {
    return reason;
  }

  /** The byte offset, from the start of the decoded buffer, where the problem was found. */
  public long offset() {
    return offset;
  }
}
