package dev.bulwark.store.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.KeyEncoding;
import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.store.keys.KeyFileException.Problem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key files on a real file system. These tests run as root here, which can read any file;
 * they still pass because {@link KeyFiles} checks the permission bits, not access.
 */
class KeyFilesTest {
  private static final SigningKey KEY = SigningKey.generate(new SplittableRandom(5));
  private static final SigningKey OTHER_KEY = SigningKey.generate(new SplittableRandom(6));

  @TempDir
  Path dir;

  @Test
  void privateKeyIsWrittenWithMode0600AndReadsBack() throws IOException {
    Path file = dir.resolve("node.key");
    KeyFiles.writePrivateKey(file, KEY);
    assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.readString(file)).isEqualTo(KeyEncoding.privateKeyPem(KEY));
    SigningKey back = KeyFiles.readPrivateKey(file);
    assertThat(back.publicKey()).isEqualTo(KEY.publicKey());
    assertThat(back.sign(Bytes.utf8("m"))).isEqualTo(KEY.sign(Bytes.utf8("m")));
  }

  @Test
  void privateKeyIsNeverOverwritten() throws IOException {
    Path file = dir.resolve("node.key");
    KeyFiles.writePrivateKey(file, KEY);
    assertThatThrownBy(() -> KeyFiles.writePrivateKey(file, OTHER_KEY))
        .isInstanceOfSatisfying(KeyFileException.class, e -> {
          assertThat(e.problem()).isEqualTo(Problem.ALREADY_EXISTS);
          assertThat(e.path()).isEqualTo(file);
        })
        .hasMessage("refusing to overwrite the existing file " + file
            + " with a new private key; move it away or choose another path");
    assertThat(KeyFiles.readPrivateKey(file).publicKey()).isEqualTo(KEY.publicKey());
    // Nor any other file that happens to be there.
    Path notes = Files.writeString(dir.resolve("notes.txt"), "keep me");
    assertThatThrownBy(() -> KeyFiles.writePrivateKey(notes, KEY)).isInstanceOf(KeyFileException.class);
    assertThat(Files.readString(notes)).isEqualTo("keep me");
  }

  @Test
  void readingAGroupOrWorldReadablePrivateKeyIsRefused() throws IOException {
    Path file = dir.resolve("node.key");
    KeyFiles.writePrivateKey(file, KEY);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> KeyFiles.readPrivateKey(file))
        .isInstanceOfSatisfying(KeyFileException.class, e -> assertThat(e.problem()).isEqualTo(Problem.INSECURE_PERMISSIONS))
        .hasMessageContaining(file.toString())
        .hasMessageContaining("mode 0644")
        .hasMessageEndingWith("run: chmod 600 " + file);
    for (String mode : new String[] {"rw-r-----", "rw--w----", "rw----r--", "rw-----w-"}) {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
      assertThatThrownBy(() -> KeyFiles.readPrivateKey(file)).as(mode)
          .isInstanceOfSatisfying(KeyFileException.class, e -> assertThat(e.problem()).isEqualTo(Problem.INSECURE_PERMISSIONS));
    }
    // Owner-only modes are fine, read-only too.
    for (String mode : new String[] {"rw-------", "r--------"}) {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
      assertThat(KeyFiles.readPrivateKey(file).publicKey()).as(mode).isEqualTo(KEY.publicKey());
    }
  }

  @Test
  void readsAPrivateKeyOpensslWrote() throws IOException {
    // openssl pkey output for the RFC 8032 TEST 1 seed, saved with mode 0600.
    Path file = Files.writeString(dir.resolve("openssl.pem"), """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
        -----END PRIVATE KEY-----
        """);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    assertThat(KeyFiles.readPrivateKey(file).publicKey().hex())
        .isEqualTo("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  }

  @Test
  void missingAndMalformedFiles() throws IOException {
    Path missing = dir.resolve("missing.key");
    assertThatThrownBy(() -> KeyFiles.readPrivateKey(missing))
        .isInstanceOfSatisfying(KeyFileException.class, e -> assertThat(e.problem()).isEqualTo(Problem.MISSING))
        .hasMessage("no private key file at " + missing);
    assertThatThrownBy(() -> KeyFiles.readPublicKey(missing))
        .hasMessage("no public key file at " + missing);

    Path garbage = Files.writeString(dir.resolve("garbage.key"), "not a key\n");
    Files.setPosixFilePermissions(garbage, PosixFilePermissions.fromString("rw-------"));
    assertThatThrownBy(() -> KeyFiles.readPrivateKey(garbage))
        .isInstanceOfSatisfying(KeyFileException.class, e -> assertThat(e.problem()).isEqualTo(Problem.MALFORMED))
        .hasMessage(garbage + ": private key PEM: missing the '-----BEGIN PRIVATE KEY-----' line at the start");

    Path publicInsteadOfPrivate = dir.resolve("swapped.key");
    KeyFiles.writePublicKey(publicInsteadOfPrivate, KEY.publicKey());
    Files.setPosixFilePermissions(publicInsteadOfPrivate, PosixFilePermissions.fromString("rw-------"));
    assertThatThrownBy(() -> KeyFiles.readPrivateKey(publicInsteadOfPrivate))
        .hasMessageStartingWith(publicInsteadOfPrivate + ": private key PEM: the first line is '-----BEGIN PUBLIC KEY-----'");

    Path binary = Files.write(dir.resolve("binary.key"), new byte[] {(byte) 0xC3, (byte) 0xA9});
    Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rw-------"));
    assertThatThrownBy(() -> KeyFiles.readPrivateKey(binary))
        .hasMessage(binary + " is not text (a private key file is ASCII PEM)");

    Path huge = Files.write(dir.resolve("huge.pub"), new byte[KeyEncoding.PEM_LENGTH_MAX + 1]);
    assertThatThrownBy(() -> KeyFiles.readPublicKey(huge))
        .isInstanceOfSatisfying(KeyFileException.class, e -> assertThat(e.problem()).isEqualTo(Problem.MALFORMED))
        .hasMessageContaining("is larger than any public key file");

    Path directory = Files.createDirectory(dir.resolve("a-directory"));
    assertThatThrownBy(() -> KeyFiles.readPublicKey(directory))
        .hasMessage(directory + " is not a regular file, so not a public key file");

    assertThatThrownBy(() -> KeyFiles.writePrivateKey(dir.resolve("no-such-dir").resolve("k.key"), KEY))
        .isInstanceOfSatisfying(KeyFileException.class, e -> assertThat(e.problem()).isEqualTo(Problem.MISSING))
        .hasMessageContaining("its directory does not exist");
  }

  @Test
  void publicKeyIsWrittenWithMode0644AndReadsBack() throws IOException {
    Path file = dir.resolve("node.pub");
    KeyFiles.writePublicKey(file, KEY.publicKey());
    assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
    assertThat(Files.readString(file)).isEqualTo(KeyEncoding.publicKeyPem(KEY.publicKey()));
    assertThat(KeyFiles.readPublicKey(file)).isEqualTo(KEY.publicKey());
  }

  @Test
  void publicKeyIsReplacedOnlyWhenAsked() throws IOException {
    Path file = dir.resolve("node.pub");
    KeyFiles.writePublicKey(file, KEY.publicKey());
    assertThatThrownBy(() -> KeyFiles.writePublicKey(file, OTHER_KEY.publicKey()))
        .isInstanceOfSatisfying(KeyFileException.class, e -> assertThat(e.problem()).isEqualTo(Problem.ALREADY_EXISTS));
    assertThat(KeyFiles.readPublicKey(file)).isEqualTo(KEY.publicKey());

    KeyFiles.writePublicKey(file, OTHER_KEY.publicKey(), true);
    assertThat(KeyFiles.readPublicKey(file)).isEqualTo(OTHER_KEY.publicKey());
    assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("node.pub"); // no temporary left
    }
    // Replacing also creates.
    Path fresh = dir.resolve("fresh.pub");
    KeyFiles.writePublicKey(fresh, KEY.publicKey(), true);
    assertThat(KeyFiles.readPublicKey(fresh)).isEqualTo(KEY.publicKey());
  }

  @Test
  void publicKeyFilesMayHoldBareHex() throws IOException {
    PublicKey key = KEY.publicKey();
    Path file = Files.writeString(dir.resolve("pasted.pub"), key.hex() + "\n", StandardCharsets.US_ASCII);
    assertThat(KeyFiles.readPublicKey(file)).isEqualTo(key);
  }

  @Test
  void modesPrintAsOctal() {
    assertThat(KeyFiles.octal(PosixFilePermissions.fromString("rw-------"))).isEqualTo("0600");
    assertThat(KeyFiles.octal(PosixFilePermissions.fromString("rwxr-x--x"))).isEqualTo("0751");
  }
}
