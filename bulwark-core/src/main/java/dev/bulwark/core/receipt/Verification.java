package dev.bulwark.core.receipt;

/** The outcome of checking a receipt: valid, or the first check that failed. */
public sealed interface Verification {
  boolean isValid();

  record Valid() implements Verification {
    @Override public boolean isValid() {
      return true;
    }
  }

  /** {@code failedCheck} names the check in one line, for people and for scripts. */
  record Invalid(String failedCheck) implements Verification {
    @Override public boolean isValid() {
      return false;
    }
  }

  static Verification check(boolean ok, String failure) {
    return ok ? new Valid() : new Invalid(failure);
  }
}
