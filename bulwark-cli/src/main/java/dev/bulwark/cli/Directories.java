package dev.bulwark.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The directory chores of commands that work in a fresh or temporary directory. */
final class Directories {
  private Directories() {}

  /** Refuses a directory that holds anything: the commands start from nothing and lose nothing. */
  static void requireFreshOrAbsent(Path dir, String what) {
    if (dir != null && Files.exists(dir) && !isEmpty(dir)) {
      throw new UserError(dir + " is not empty; " + what + " (give a new --dir)");
    }
  }

  static boolean isEmpty(Path dir) {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    } catch (IOException e) {
      return false;
    }
  }

  static Path temporary(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary directory", e);
    }
  }

  /** Deletes {@code dir} and everything in it; a failure is reported, not thrown. */
  static void deleteTree(Path dir) {
    try {
      dev.bulwark.store.FileTrees.delete(dir);
    } catch (IOException e) {
      System.err.println("bulwark: could not delete " + dir + ": " + e.getMessage());
    }
  }
}
