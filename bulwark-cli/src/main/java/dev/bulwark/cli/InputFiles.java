package dev.bulwark.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads user-named input files with one-line errors and a size bound. */
final class InputFiles {
  /** Receipts, heads and proofs are a few kilobytes; anything this big is not one. */
  static final long FILE_BYTES_MAX = 1 << 20;

  private InputFiles() {}

  /** The file as UTF-8 text; a missing, huge or binary file is a {@link UserError}. */
  static String readText(Path path, String what) {
    try {
      long size = Files.size(path);
      if (size > FILE_BYTES_MAX) {
        throw new UserError(what + " " + path + " is " + size + " bytes; expected at most " + FILE_BYTES_MAX);
      }
      return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(path))).toString();
    } catch (NoSuchFileException e) {
      throw new UserError(what + " " + path + " does not exist");
    } catch (CharacterCodingException e) {
      throw new UserError(what + " " + path + " is not UTF-8 text");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + what + " " + path, e);
    }
  }
}
