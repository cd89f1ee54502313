package dev.bulwark.cli;

import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.store.keys.KeyFiles;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Key management: for now, generating an Ed25519 key pair. */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Create and inspect Ed25519 keys.",
    subcommands = {KeysCommand.Generate.class})
final class KeysCommand implements Runnable {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "generate", mixinStandardHelpOptions = true,
      description = {"Generate an Ed25519 key pair: NAME.key (private, PKCS#8 PEM, mode 0600) and NAME.pub "
          + "(public, SubjectPublicKeyInfo PEM). Both are what openssl writes and reads.",
          "An existing key file is never overwritten."})
  static final class Generate implements Runnable {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", defaultValue = ".", description = "Directory to write the key files in (default: the current directory).")
    Path directory;

    @Option(names = "--name", defaultValue = "operator", description = "Base name of the files (default: ${DEFAULT-VALUE}).")
    String name;

    @Override
    public void run() {
      if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
        throw new UserError("--name may only use letters, digits, '.', '_' and '-': " + name);
      }
      Path privatePath = directory.resolve(name + ".key");
      Path publicPath = directory.resolve(name + ".pub");
      for (Path p : new Path[] {privatePath, publicPath}) {
        if (Files.exists(p)) {
          throw new UserError(p + " already exists; refusing to overwrite a key (choose another --name or --out)");
        }
      }
      SigningKey key = SigningKey.generate(new SecureRandom());
      KeyFiles.writePrivateKey(privatePath, key);
      KeyFiles.writePublicKey(publicPath, key.publicKey());
      PrintWriter out = spec.commandLine().getOut();
      out.println("private key  " + privatePath + "  (mode 0600: keep it secret)");
      out.println("public key   " + publicPath);
      out.println("fingerprint  " + key.publicKey().fingerprint());
    }
  }
}
