package dev.bulwark.cli;

import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code bulwark} command: one entry point with sub-commands. Errors a user can cause
 * (bad options, a locked or incompatible database) print one line and exit non-zero; only a
 * bug prints a stack trace.
 */
@Command(
    name = "bulwark",
    mixinStandardHelpOptions = true,
    versionProvider = BulwarkCommand.Version.class,
    description = "A replicated, verifiable operator server.",
    subcommands = {DemoCommand.class, TourCommand.class, ClusterCommand.class, ServeCommand.class,
        LedgerCommands.AccountCommand.class, LedgerCommands.Deposit.class, LedgerCommands.Withdraw.class,
        LedgerCommands.Transfer.class, LedgerCommands.Balance.class,
        LedgerCommands.History.class, VerifyCommand.ReceiptCommand.class, BenchCommand.class, ChaosCommand.class,
        KeysCommand.class, VerifyCommand.class, AuditCommand.class, TablesCommand.class,
        BackupCommand.class, RestoreCommand.class, ConfigCommand.class,
        CommandLine.HelpCommand.class})
public final class BulwarkCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    lightenInMemoryKeyStores();
    System.exit(commandLine().execute(args));
  }

  /**
   * Netty turns each PEM key it is given into a PKCS#12 key store that lives only in memory,
   * under a random password; the JDK seals every entry of such a store with 10,000 PBKDF2
   * rounds, about half a second of a replica's start-up CPU (measured with JFR), which a
   * restarted replica spends while its cluster waits for it. Bulwark writes no PKCS#12 file
   * (its keys are PEM files), so one round loses nothing. A value set on the command line wins.
   */
  static void lightenInMemoryKeyStores() {
    for (String property : List.of("keystore.pkcs12.keyPbeIterationCount", "keystore.pkcs12.certPbeIterationCount",
        "keystore.pkcs12.macIterationCount")) {
      if (System.getProperty(property) == null) {
        System.setProperty(property, "1");
      }
    }
  }

  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new BulwarkCommand());
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      PrintWriter err = commandLine.getErr();
      if (e instanceof UserError || e instanceof dev.bulwark.store.StoreException
          || e instanceof dev.bulwark.client.RequestTimeoutException || e instanceof dev.bulwark.client.ReceiptRejectedException
          || e instanceof dev.bulwark.core.json.JsonException || e instanceof IllegalArgumentException) {
        // One line per problem (a settings file may have several), each marked as the command's.
        String.valueOf(e.getMessage()).lines().forEach(line -> err.println("bulwark: " + line));
        return 2;
      }
      err.println("bulwark: internal error (a bug; please report it with this trace):");
      e.printStackTrace(err);
      return 70;
    });
    return cli;
  }

  /** Reads the version from the jar manifest, so it is set in one place: the pom. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = BulwarkCommand.class.getPackage().getImplementationVersion();
      return new String[] {"bulwark " + (version == null ? "(development build)" : version),
          "Java " + Runtime.version()};
    }
  }
}
