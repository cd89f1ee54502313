package dev.bulwark.store.keys;

import dev.bulwark.core.crypto.KeyEncoding;
import dev.bulwark.core.crypto.KeyFormatException;
import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.store.keys.KeyFileException.Problem;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * Ed25519 keys on disk as the PEM files {@link KeyEncoding} writes (the same files
 * {@code openssl genpkey -algorithm ed25519} makes). The file I/O lives here, in the shell,
 * so that {@code bulwark-core} stays free of it.
 *
 * <p>A private key file is created with mode 0600 in the same system call that creates it
 * (never created open and narrowed afterwards), never replaces an existing file, and is
 * fsynced along with its directory. Reading one is refused, like OpenSSH does, while group or
 * others may read or write it; the message says to run {@code chmod 600}. Those checks read
 * the permission bits, not whether this process can open the file, so they hold for root too.
 * POSIX file systems only.
 *
 * <p>Every failure is a {@link KeyFileException} naming the file and the {@link Problem}.
 */
public final class KeyFiles {
  private KeyFiles() {}

  /** Owner read and write only. */
  public static final Set<PosixFilePermission> PRIVATE_KEY_PERMISSIONS = PosixFilePermissions.fromString("rw-------");
  /** Owner read and write, everyone else read. */
  public static final Set<PosixFilePermission> PUBLIC_KEY_PERMISSIONS = PosixFilePermissions.fromString("rw-r--r--");

  private static final Set<PosixFilePermission> GROUP_OR_OTHERS_READ_WRITE = EnumSet.of(
      PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
      PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

  // ---------------------------------------------------------------- private keys

  /**
   * Writes {@code key} as a PKCS#8 PEM to a new file at {@code path}, mode 0600, and fsyncs
   * the file and its directory. Refuses ({@link Problem#ALREADY_EXISTS}) if anything exists at
   * {@code path}: a key is never overwritten. On failure after creation, the partial file is
   * removed.
   */
  public static void writePrivateKey(Path path, SigningKey key) {
    byte[] pem = KeyEncoding.privateKeyPem(key).getBytes(StandardCharsets.US_ASCII);
    try {
      createNew(path, pem, PosixFilePermissions.asFileAttribute(PRIVATE_KEY_PERMISSIONS), "private key");
      Set<PosixFilePermission> actual = permissions(path);
      if (!actual.equals(PRIVATE_KEY_PERMISSIONS)) {
        // A file system that ignores the mode asked for (some network and FAT mounts).
        Files.deleteIfExists(path);
        throw new KeyFileException(Problem.INSECURE_PERMISSIONS, path, "the file system gave the new private key file "
            + path + " mode " + octal(actual) + " instead of 0600; removed it. Write keys to a local POSIX file system");
      }
    } catch (IOException e) {
      throw new KeyFileException(Problem.IO, path, "cannot write the private key file " + path, e);
    } finally {
      Arrays.fill(pem, (byte) 0);
    }
  }

  /**
   * Reads a private key written by {@link #writePrivateKey} or by
   * {@code openssl genpkey -algorithm ed25519}. Refuses with
   * {@link Problem#INSECURE_PERMISSIONS} if group or others may read or write the file.
   */
  public static SigningKey readPrivateKey(Path path) {
    PosixFileAttributes attributes = attributes(path, "private key");
    Set<PosixFilePermission> permissions = attributes.permissions();
    if (!disjoint(permissions, GROUP_OR_OTHERS_READ_WRITE)) {
      throw new KeyFileException(Problem.INSECURE_PERMISSIONS, path, "the private key file " + path
          + " is readable or writable by group or others (mode " + octal(permissions)
          + "); a key others could read must be treated as leaked. If it has not been, run: chmod 600 " + path);
    }
    String text = readText(path, "private key");
    try {
      return KeyEncoding.parsePrivateKeyPem(text);
    } catch (KeyFormatException e) {
      throw new KeyFileException(Problem.MALFORMED, path, path + ": " + e.getMessage());
    }
  }

  // ---------------------------------------------------------------- public keys

  /** Writes {@code key} as a PEM to a new file, mode 0644; refuses if a file exists there. */
  public static void writePublicKey(Path path, PublicKey key) {
    writePublicKey(path, key, false);
  }

  /**
   * Writes {@code key} as a SubjectPublicKeyInfo PEM, mode 0644 whatever the umask, fsynced
   * with its directory. Without {@code replaceExisting} an existing file is an error
   * ({@link Problem#ALREADY_EXISTS}); with it, the new file replaces the old one atomically
   * (written beside it, then renamed over it), so readers see the old key or the new one.
   */
  public static void writePublicKey(Path path, PublicKey key, boolean replaceExisting) {
    byte[] pem = KeyEncoding.publicKeyPem(key).getBytes(StandardCharsets.US_ASCII);
    try {
      if (!replaceExisting) {
        createNew(path, pem, PosixFilePermissions.asFileAttribute(PUBLIC_KEY_PERMISSIONS), "public key");
        Files.setPosixFilePermissions(path, PUBLIC_KEY_PERMISSIONS); // the umask may have narrowed it
        return;
      }
      Path directory = directoryOf(path);
      Path temporary = Files.createTempFile(directory, "." + path.getFileName() + ".", ".tmp",
          PosixFilePermissions.asFileAttribute(PRIVATE_KEY_PERMISSIONS));
      try {
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
          writeFully(channel, pem);
          channel.force(true);
        }
        Files.setPosixFilePermissions(temporary, PUBLIC_KEY_PERMISSIONS);
        Files.move(temporary, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(temporary);
      }
      forceDirectory(directory);
    } catch (IOException e) {
      throw new KeyFileException(Problem.IO, path, "cannot write the public key file " + path, e);
    }
  }

  /**
   * Reads a public key file: a {@code PUBLIC KEY} PEM, or a bare 64-digit hex key (since
   * people paste keys into files too). No permission check: public keys are public.
   */
  public static PublicKey readPublicKey(Path path) {
    attributes(path, "public key");
    String text = readText(path, "public key");
    try {
      return KeyEncoding.parsePublicKey(text);
    } catch (KeyFormatException e) {
      throw new KeyFileException(Problem.MALFORMED, path, path + ": " + e.getMessage());
    }
  }

  // ---------------------------------------------------------------- helpers

  private static void createNew(Path path, byte[] content, FileAttribute<Set<PosixFilePermission>> mode, String what)
      throws IOException {
    FileChannel channel;
    try {
      channel = FileChannel.open(path, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), mode);
    } catch (FileAlreadyExistsException e) {
      throw new KeyFileException(Problem.ALREADY_EXISTS, path, "refusing to overwrite the existing file " + path
          + " with a new " + what + "; move it away or choose another path");
    } catch (NoSuchFileException e) {
      throw new KeyFileException(Problem.MISSING, path, "cannot create the " + what + " file " + path
          + ": its directory does not exist");
    }
    boolean complete = false;
    try (channel) {
      writeFully(channel, content);
      channel.force(true);
      complete = true;
    } finally {
      if (!complete) {
        Files.deleteIfExists(path);
      }
    }
    forceDirectory(directoryOf(path));
  }

  private static void writeFully(FileChannel channel, byte[] content) throws IOException {
    ByteBuffer buffer = ByteBuffer.wrap(content);
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  /** Makes the new directory entry durable; without this a crash can lose a file fsync kept. */
  private static void forceDirectory(Path directory) throws IOException {
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  private static Path directoryOf(Path path) {
    Path parent = path.toAbsolutePath().getParent();
    if (parent == null) {
      throw new KeyFileException(Problem.IO, path, "a key file needs a directory; " + path + " has none");
    }
    return parent;
  }

  private static PosixFileAttributes attributes(Path path, String what) {
    PosixFileAttributes attributes;
    try {
      attributes = Files.readAttributes(path, PosixFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw new KeyFileException(Problem.MISSING, path, "no " + what + " file at " + path);
    } catch (UnsupportedOperationException e) {
      throw new KeyFileException(Problem.IO, path, "cannot check the permissions of " + path
          + ": not on a POSIX file system");
    } catch (IOException e) {
      throw new KeyFileException(Problem.IO, path, "cannot read the " + what + " file " + path, e);
    }
    if (!attributes.isRegularFile()) {
      throw new KeyFileException(Problem.MALFORMED, path, path + " is not a regular file, so not a " + what + " file");
    }
    return attributes;
  }

  private static Set<PosixFilePermission> permissions(Path path) throws IOException {
    return Files.readAttributes(path, PosixFileAttributes.class).permissions();
  }

  /** The file's text, read only up to the longest key PEM, and only if it is ASCII. */
  private static String readText(Path path, String what) {
    byte[] content;
    try (InputStream in = Files.newInputStream(path)) {
      content = in.readNBytes(KeyEncoding.PEM_LENGTH_MAX + 1);
    } catch (NoSuchFileException e) {
      throw new KeyFileException(Problem.MISSING, path, "no " + what + " file at " + path);
    } catch (IOException e) {
      throw new KeyFileException(Problem.IO, path, "cannot read the " + what + " file " + path, e);
    }
    try {
      if (content.length > KeyEncoding.PEM_LENGTH_MAX) {
        throw new KeyFileException(Problem.MALFORMED, path, path + " is larger than any " + what + " file ("
            + KeyEncoding.PEM_LENGTH_MAX + " bytes at most)");
      }
      return StandardCharsets.US_ASCII.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(content))
          .toString();
    } catch (CharacterCodingException e) {
      throw new KeyFileException(Problem.MALFORMED, path, path + " is not text (a " + what + " file is ASCII PEM)");
    } finally {
      Arrays.fill(content, (byte) 0);
    }
  }

  private static boolean disjoint(Set<PosixFilePermission> a, Set<PosixFilePermission> b) {
    for (PosixFilePermission p : a) {
      if (b.contains(p)) {
        return false;
      }
    }
    return true;
  }

  /** The permission bits as four octal digits, for example {@code 0644}. */
  static String octal(Set<PosixFilePermission> permissions) {
    int mode = 0;
    for (PosixFilePermission p : permissions) {
      mode |= 1 << (8 - p.ordinal()); // the enum is declared OWNER_READ ... OTHERS_EXECUTE
    }
    return String.format("%04o", mode);
  }
}
