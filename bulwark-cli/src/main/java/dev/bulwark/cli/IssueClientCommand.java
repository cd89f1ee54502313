package dev.bulwark.cli;

import dev.bulwark.server.net.Certificates;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Issues a client certificate from the cluster CA into {@code CLUSTER/clients/}. A gateway
 * certificate lets its holder send unsigned transfers; a plain one only identifies a client.
 */
@Command(name = "issue-client", mixinStandardHelpOptions = true,
    description = {"Issue a client certificate from the cluster CA, written to DIR/clients/NAME.crt and NAME.key (0600).",
        "With --gateway, the certificate makes its holder a trusted gateway, whose connections may send unsigned "
            + "transfers (bulwark transfer --gateway NAME); keep its key as safe as the admin key."})
final class IssueClientCommand implements Runnable {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIR", description = "The cluster directory (it holds ca.crt and ca.key).")
  Path cluster;

  @Parameters(index = "1", paramLabel = "NAME", description = "The client's name (1 to 64 of A-Z a-z 0-9 . _ -).")
  String name;

  @Option(names = "--gateway", description = "Issue a trusted gateway's certificate.")
  boolean gateway;

  @Option(names = "--days", defaultValue = "365", description = "Validity in days (1 to 3650, default ${DEFAULT-VALUE}).")
  int days;

  @Override
  public void run() {
    if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new UserError("client names are 1 to 64 of A-Z a-z 0-9 . _ -, not '" + name + "'");
    }
    if (days < 1 || days > 3650) {
      throw new UserError("--days must be between 1 and 3650");
    }
    Path caCert = cluster.resolve("ca.crt");
    Path caKey = cluster.resolve("ca.key");
    if (!Files.isRegularFile(caCert) || !Files.isRegularFile(caKey)) {
      throw new UserError(cluster + " has no ca.crt and ca.key (create a cluster with 'bulwark cluster init')");
    }
    Path dir = cluster.resolve("clients");
    Path certificate = dir.resolve(name + ".crt");
    Path key = dir.resolve(name + ".key");
    if (Files.exists(certificate) || Files.exists(key)) {
      throw new UserError(certificate + " already exists: pick another name or remove the old files first");
    }
    try {
      Files.createDirectories(dir);
    } catch (java.io.IOException e) {
      throw new UserError("cannot create " + dir + ": " + e.getMessage());
    }
    Certificates.Issued ca = Certificates.read(caCert, caKey);
    Certificates.ClientRole role = gateway ? Certificates.ClientRole.GATEWAY : Certificates.ClientRole.CLIENT;
    Certificates.write(Certificates.issueClient(ca, name, role, Duration.ofDays(days), new SecureRandom()), certificate, key);
    PrintWriter out = spec.commandLine().getOut();
    out.printf("%s certificate for '%s', valid %d days: %s, key %s%n", gateway ? "gateway" : "client", name, days,
        certificate, key);
  }
}
