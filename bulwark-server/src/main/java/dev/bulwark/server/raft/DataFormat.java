package dev.bulwark.server.raft;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The version of a replica's data directory (its store layout and the batch entries in its Raft
 * log), written as a one-line marker file when the directory is created and checked every time a
 * replica starts, so that a build given data it cannot read refuses to start with a message that
 * names both versions instead of misreading it. A directory without the marker predates it and
 * is version 1, the first format; it gets the marker on its next start.
 */
public final class DataFormat {
  private DataFormat() {}

  /** The data format this build writes and reads. */
  public static final int VERSION = 1;

  /** The marker file inside the data directory. */
  public static final String MARKER = "bulwark-data-format";

  private static final String PREFIX = "bulwark data format ";

  /** A data directory, a backup or a peer's entry of a format this build cannot read. */
  public static final class IncompatibleFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public IncompatibleFormatException(String message) {
      super(message);
    }
  }

  /** Refuses {@code dataDir} if its marker names another version; writes the marker if it has none. */
  public static void checkOrCreate(Path dataDir) {
    Path marker = dataDir.resolve(MARKER);
    if (Files.exists(marker)) {
      int found = read(marker);
      if (found != VERSION) {
        throw new IncompatibleFormatException("the data directory " + dataDir + " has data format " + found
            + " but this build of bulwark reads data format " + VERSION + " only: run the version that wrote it, or "
            + "restore a backup taken with a compatible version into a new directory");
      }
      return;
    }
    write(dataDir);
  }

  /** Writes the marker of this build's version into {@code dataDir} (creating it). */
  public static void write(Path dataDir) {
    try {
      Files.createDirectories(dataDir);
      Path scratch = dataDir.resolve(MARKER + ".tmp");
      Files.writeString(scratch, PREFIX + VERSION + "\n", StandardCharsets.US_ASCII);
      Files.move(scratch, dataDir.resolve(MARKER), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the data format marker in " + dataDir, e);
    }
  }

  /** The version a marker file names. */
  static int read(Path marker) {
    String text;
    try {
      text = Files.readString(marker, StandardCharsets.US_ASCII).strip();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the data format marker " + marker, e);
    }
    if (!text.startsWith(PREFIX)) {
      throw new IncompatibleFormatException(marker + " does not name a bulwark data format: '" + text + "'");
    }
    try {
      return Integer.parseInt(text.substring(PREFIX.length()));
    } catch (NumberFormatException e) {
      throw new IncompatibleFormatException(marker + " does not name a bulwark data format: '" + text + "'");
    }
  }
}
