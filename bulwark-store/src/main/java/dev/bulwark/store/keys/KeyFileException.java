package dev.bulwark.store.keys;

import dev.bulwark.store.StoreException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A key file could not be written or read: missing, already there, readable by others,
 * not a key, or an I/O error. An operating error, so callers (the CLI, server start-up) show
 * the one-line message, which names the file and what to do, and stop cleanly.
 */
public final class KeyFileException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** What went wrong, for callers that act on it rather than print it. */
  public enum Problem {
    /** Reading a file that does not exist. */
    MISSING,
    /** Writing where a file already exists, without permission to replace it. */
    ALREADY_EXISTS,
    /** A private key file that group or others may read or write. */
    INSECURE_PERMISSIONS,
    /** The file exists but does not hold a key in a form {@code KeyEncoding} accepts. */
    MALFORMED,
    /** The operating system refused or failed the read or write. */
    IO
  }

  private final Problem problem;
  private final transient Path path;

  KeyFileException(Problem problem, Path path, String message) {
    super(message);
    this.problem = Objects.requireNonNull(problem);
    this.path = path;
  }

  KeyFileException(Problem problem, Path path, String message, Throwable cause) {
    super(message, cause);
    this.problem = Objects.requireNonNull(problem);
    this.path = path;
  }

  public Problem problem() {
    return problem;
  }

  /** The key file concerned. */
  public Path path() {
    return path;
  }
}
