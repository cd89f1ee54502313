package dev.bulwark.cli;

import dev.bulwark.cli.chaos.ChaosReport;
import dev.bulwark.cli.chaos.ChaosRunner;
import dev.bulwark.cli.chaos.Checker;
import dev.bulwark.cli.chaos.ClusterControl;
import dev.bulwark.cli.chaos.FaultSchedule;
import dev.bulwark.client.ClientConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bulwark chaos}: faults injected into a local cluster's replica processes while
 * recorded clients run, then a checker's verdict on the history (see docs/chaos.md). It lives
 * beside the cluster command so that it starts replicas exactly as 'cluster up' does.
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
    description = {"Kill, pause and restart a cluster's replicas from a seeded schedule while clients transfer and read, "
        + "record every operation to a history file, then check the history against the healed cluster.",
        "Exit status 0 when the check passes, 1 when it finds a violation, 2 on a usage problem."})
final class ChaosCommand implements Callable<Integer>, ClusterControl {
  @Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--cluster", paramLabel = "DIR",
      description = "Use this running cluster (started with 'cluster up') instead of starting one in a temporary directory.")
  Path existing;

  @Option(names = "--duration", paramLabel = "SECONDS", description = "Run this long (default 60 unless --faults is given).")
  Integer durationSeconds;

  @Option(names = "--faults", paramLabel = "N", description = "Inject N faults (restarts not counted) instead of running for a duration.")
  Integer faults;

  @Option(names = "--seed", description = "The fault schedule's seed (default: a random one, printed); the same seed replays the same schedule.")
  Long seed;

  @Option(names = "--pace", defaultValue = "steady", converter = PaceConverter.class, paramLabel = "steady|brisk",
      description = "How densely faults follow each other: steady (default: seconds of calm around each fault) or brisk "
          + "(restarts within 2 s, the next fault about a second after the last one ended: for long runs).")
  FaultSchedule.Pace pace;

  @Option(names = "--replicas", defaultValue = "3", description = "Replicas of the started cluster (3 to 9, default ${DEFAULT-VALUE}).")
  int replicas;

  @Option(names = "--clients", defaultValue = "4", description = "Concurrent clients, each with its own account (default ${DEFAULT-VALUE}).")
  int clients;

  @Option(names = "--history", paramLabel = "FILE", description = "The history file (default chaos-history-SEED.jsonl).")
  Path history;

  @Option(names = "--dry-run", description = "Print the fault schedule (with partitions when they can be made here) and exit.")
  boolean dryRun;

  @Option(names = "--keep", description = "Keep the started cluster's directory (its replicas' logs) after the run.")
  boolean keep;

  @Option(names = "--html", paramLabel = "FILE",
      description = "Also write the report as an HTML page: operations per second with the faults marked, and a latency histogram.")
  Path html;

  @Option(names = "--stale-reads-ok",
      description = "Count stale reads (a read older than a write confirmed before it began) instead of failing on them: "
          + "for clusters of versions before reads were linearizable.")
  boolean staleReadsOk;

  @Option(names = "--restart-nice", defaultValue = "-10", paramLabel = "N",
      description = "Run a replica the schedule restarts this much below its peers' nice value (as nice -n takes it: "
          + "-20 to 0, default ${DEFAULT-VALUE}) until it has caught up, then at theirs: on a machine the other replicas "
          + "and the workload keep busy it starts and catches up about twice as fast. Below 0 needs root (CAP_SYS_NICE); "
          + "0 turns it off.")
  int restartNice;

  @Option(names = "--tcp-rto-max-ms", defaultValue = "1000", paramLabel = "MS",
      description = "Bound TCP's retransmission back-off in the replicas' network namespaces to this many ms "
          + "(net.ipv4.tcp_rto_max_ms, Linux 6.15 and later: " + dev.bulwark.cli.net.NetworkLab.RTO_MAX_MS_MIN + " to "
          + dev.bulwark.cli.net.NetworkLab.RTO_MAX_MS_MAX + ", default ${DEFAULT-VALUE}; 0 keeps the kernel's, two "
          + "minutes). With the kernel's, a connection cut several times in a row can stay silent for seconds after "
          + "its link is healed, as it would between real hosts: set the same on replica hosts (docs/deploy.md).")
  int tcpRtoMaxMs;

  @Option(names = "--min-free-mb", defaultValue = "2000", paramLabel = "MB",
      description = "Stop the faults and the workload early, then heal and check as usual, when the free disk space where "
          + "the history or the cluster is written falls below this many MB (default ${DEFAULT-VALUE}; 0: never). "
          + "A long run writes about 0.5 MB per client and second.")
  long minFreeMb;
  /** A petabyte: more free space than any disk a run writes to, and far from overflowing in bytes. */
  static final long MAX_MIN_FREE_MB = 1_000_000_000L;

  /** steady or brisk, in any case. */
  static final class PaceConverter implements CommandLine.ITypeConverter<FaultSchedule.Pace> {
    @Override
    public FaultSchedule.Pace convert(String value) {
      try {
        return FaultSchedule.Pace.valueOf(value.strip().toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException("--pace is steady or brisk, not '" + value + "'");
      }
    }
  }

  @Override
  public Integer call() throws Exception {
    if (durationSeconds != null && faults != null) {
      throw new UserError("give --duration or --faults, not both");
    }
    long chosenSeed = seed != null ? seed : new SecureRandom().nextLong() & Long.MAX_VALUE;
    FaultSchedule.Length length;
    try {
      length = faults != null ? new FaultSchedule.Length.Faults(faults)
          : new FaultSchedule.Length.Duration((durationSeconds != null ? durationSeconds : 60) * 1000L);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    if (existing != null) {
      ClusterCommand.replicaDirs(existing); // a usage error if it is not a cluster directory
    }
    if (minFreeMb < 0 || minFreeMb > MAX_MIN_FREE_MB) {
      throw new UserError("--min-free-mb is 0 to " + MAX_MIN_FREE_MB + ", not " + minFreeMb);
    }
    ChaosRunner.Options options;
    try {
      options = new ChaosRunner.Options(chosenSeed, length, pace, replicas, clients, Optional.ofNullable(existing),
          history != null ? history : Path.of("chaos-history-" + chosenSeed + ".jsonl"), keep,
          staleReadsOk ? Checker.ReadRule.SNAPSHOT : Checker.ReadRule.LINEARIZABLE,
          minFreeMb * 1_000_000L, restartNice, tcpRtoMaxMs);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    if (dryRun) {
      boolean partitions = ChaosRunner.whyNoPartitions(Optional.ofNullable(existing)).isEmpty();
      List<dev.bulwark.cli.chaos.Fault.Timed> plan = FaultSchedule.plan(chosenSeed, length, partitions, pace);
      out.printf("seed %d, pace %s, partitions %s: %d faults%n", chosenSeed, pace.name().toLowerCase(java.util.Locale.ROOT),
          partitions ? "yes" : "no", plan.stream().filter(t -> !(t.fault() instanceof dev.bulwark.cli.chaos.Fault.RestartKilled)).count());
      plan.forEach(t -> out.println("  " + t));
      return 0;
    }
    ChaosReport report = new ChaosRunner(options, this, out).run();
    out.println("history: " + options.historyFile().toAbsolutePath() + "; seed " + chosenSeed);
    report.print(out);
    if (html != null) {
      java.nio.file.Files.writeString(html, dev.bulwark.cli.chaos.ChaosHtml.render(
          dev.bulwark.cli.chaos.History.read(options.historyFile(),
              dev.bulwark.cli.chaos.Checker.dropVerifiedReceipts(java.util.Optional.empty())), report, chosenSeed));
      out.println("HTML report: " + html.toAbsolutePath());
    }
    out.flush();
    return report.passed() ? 0 : 1;
  }

  // ---------------------------------------------------------------- ClusterControl, through 'bulwark cluster'

  @Override
  public void init(Path dir, List<String> hosts, int basePort) throws IOException {
    StringWriter text = new StringWriter();
    CommandLine cli = BulwarkCommand.commandLine();
    cli.setOut(new PrintWriter(text, true));
    cli.setErr(new PrintWriter(text, true));
    int exit = cli.execute("cluster", "init", dir.toString(), "--hosts", String.join(",", hosts), "--base-port",
        Integer.toString(basePort), "--name", "chaos");
    if (exit != 0) {
      throw new IOException("cluster init failed: " + text);
    }
  }

  @Override
  public List<ReplicaInfo> replicas(Path dir) {
    return ClusterCommand.replicaDirs(dir).stream().map(rdir -> {
      ReplicaSettings s = ReplicaSettings.read(rdir.resolve("replica.properties"));
      return new ReplicaInfo(s.id(), rdir, s.httpHost() + ":" + s.httpPort());
    }).toList();
  }

  @Override
  public Process start(Path replicaDir, java.util.function.UnaryOperator<List<String>> launcher) throws IOException {
    return ClusterCommand.startReplica(replicaDir, false, launcher);
  }

  @Override
  public Optional<ProcessHandle> running(Path replicaDir) {
    return ClusterCommand.running(replicaDir);
  }

  @Override
  public ClientConfig client(Path dir, String name) {
    LedgerCommands.ClusterOption option = new LedgerCommands.ClusterOption();
    option.cluster = dir;
    return option.config(name).withLanes(1);
  }
}
