package dev.bulwark.cli;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.core.protocol.Frame;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.server.net.Certificates;
import dev.bulwark.store.keys.KeyFiles;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** A local cluster in a directory: its keys and certificates, and its replicas as background processes. */
@Command(name = "cluster", mixinStandardHelpOptions = true, description = "Create, start, inspect and stop a local cluster.",
    subcommands = {ClusterCommand.Init.class, ClusterCommand.Up.class, ClusterCommand.Status.class, ClusterCommand.Down.class,
        ClusterCommand.TransferLeader.class, ClusterCommand.AddReplica.class, ClusterCommand.RemoveReplica.class,
        IssueClientCommand.class})
final class ClusterCommand implements Runnable {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static List<Path> replicaDirs(Path cluster) {
    if (!Files.isDirectory(cluster)) {
      throw new UserError("no cluster directory at " + cluster + " (create one with 'bulwark cluster init')");
    }
    try (Stream<Path> entries = Files.list(cluster)) {
      List<Path> dirs = entries.filter(d -> Files.isRegularFile(d.resolve("replica.properties"))).sorted().toList();
      if (dirs.isEmpty()) {
        throw new UserError(cluster + " holds no replica (no */replica.properties)");
      }
      return dirs;
    } catch (IOException e) {
      throw new UserError("cannot list " + cluster + ": " + e.getMessage());
    }
  }

  static Optional<ProcessHandle> running(Path replicaDir) {
    Path pidFile = replicaDir.resolve("replica.pid");
    try {
      if (!Files.exists(pidFile)) {
        return Optional.empty();
      }
      long pid = Long.parseLong(Files.readString(pidFile).strip());
      return ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  @Command(name = "init", mixinStandardHelpOptions = true,
      description = {"Create a cluster directory: a private CA, the operator's signing key, the admin key, and for each "
          + "replica a certificate and a replica.properties.",
          "Replicas run on 127.0.0.1 (a local cluster, for 'cluster up') unless --hosts names each replica's host. "
              + "The k-th replica on a host uses Raft port BASE+k, client port BASE+100+k and admin port BASE+200+k: "
              + "with one replica per host, 7101, 7201 and 7301 by default.",
          "Private keys are written with mode 0600."})
  static final class Init implements Runnable {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The new cluster's directory (must not exist or be empty).")
    Path dir;

    @Option(names = "--replicas", description = "How many replicas (1 to 9; default: one per --hosts entry, or 3).")
    Integer replicas;

    @Option(names = "--hosts", split = ",", paramLabel = "HOST",
        description = "Each replica's host, comma separated, in replica order: an IPv4 address or a DNS name that "
            + "clients and the other replicas use to reach it, and that the replica listens on. Its certificate names it. "
            + "Default: 127.0.0.1 for every replica.")
    List<String> hosts;

    @Option(names = "--base-port", defaultValue = "7100",
        description = "The k-th replica on a host: Raft on base+k, clients on base+100+k, admin API on base+200+k "
            + "(default ${DEFAULT-VALUE}).")
    int basePort;

    @Option(names = "--name", defaultValue = "bulwark", description = "The cluster's and operator's name (default ${DEFAULT-VALUE}).")
    String name;

    @Override
    public void run() {
      int count = replicas != null ? replicas : hosts != null ? hosts.size() : 3;
      if (count < 1 || count > 9) {
        throw new UserError("--replicas must be between 1 and 9");
      }
      List<String> replicaHosts = hosts != null ? hosts.stream().map(String::strip).toList()
          : java.util.Collections.nCopies(count, LOCAL_HOST);
      if (replicaHosts.size() != count) {
        throw new UserError("--hosts names " + replicaHosts.size() + " hosts for " + count + " replicas: give one per replica");
      }
      replicaHosts.forEach(Hosts::check);
      if (basePort < 1024 || basePort + 200 + count > 65535) {
        throw new UserError("--base-port must be between 1024 and " + (65535 - 200 - count));
      }
      if (!name.matches("[A-Za-z0-9._-]{1,32}")) {
        throw new UserError("--name may use letters, digits, '.', '_' and '-' (1 to 32)");
      }
      Directories.requireFreshOrAbsent(dir, "a cluster is created in a fresh directory");
      SecureRandom random = new SecureRandom();
      try {
        Files.createDirectories(dir);
        Certificates.Issued ca = Certificates.authority(name + " cluster CA", Duration.ofDays(3650), random);
        Certificates.write(ca, dir.resolve("ca.crt"), dir.resolve("ca.key"));
        SigningKey operator = SigningKey.generate(random);
        KeyFiles.writePrivateKey(dir.resolve("operator.key"), operator);
        KeyFiles.writePublicKey(dir.resolve("operator.pub"), operator.publicKey());
        SigningKey admin = SigningKey.generate(random);
        KeyFiles.writePrivateKey(dir.resolve("admin.key"), admin);
        KeyFiles.writePublicKey(dir.resolve("admin.pub"), admin.publicKey());
        Endpoints endpoints = new Endpoints(new LinkedHashMap<>(), new LinkedHashMap<>(), new LinkedHashMap<>());
        for (int i = 1; i <= count; i++) {
          endpoints.add("r" + i, replicaHosts.get(i - 1), basePort);
        }
        for (int i = 1; i <= count; i++) {
          writeReplica(dir, ca, name, "r" + i, endpoints, random);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("cluster '%s' in %s: %d replicas, clients on %s%n", name, dir, count,
            String.join(", ", endpoints.ingress().values()));
        out.printf("operator key %s, admin key %s%n", operator.publicKey().fingerprint(), admin.publicKey().fingerprint());
        if (endpoints.local()) {
          out.println("start it with: bin/bulwark cluster up " + dir);
        } else {
          out.println("on each host, with rN/, ca.crt and admin.pub copied there: bulwark serve rN/replica.properties"
              + " (see docs/deploy.md)");
        }
      } catch (IOException e) {
        throw new UserError("cannot create the cluster in " + dir + ": " + e.getMessage());
      }
    }
  }

  /** The host of a local cluster's replicas. */
  static final String LOCAL_HOST = "127.0.0.1";

  /**
   * Every replica's advertised endpoints, id -> host:port: Raft, clients (ingress) and the admin
   * API. The k-th replica on a host takes base+k, base+100+k and base+200+k.
   */
  record Endpoints(Map<String, String> raft, Map<String, String> ingress, Map<String, String> admin) {
    static Endpoints of(ReplicaSettings s) {
      return new Endpoints(new LinkedHashMap<>(s.raftPeers()), new LinkedHashMap<>(s.ingressPeers()),
          new LinkedHashMap<>(s.httpPeers()));
    }

    void add(String id, String host, int basePort) {
      int k = 1 + (int) raft.values().stream().filter(a -> Hosts.of(a).equalsIgnoreCase(host)).count();
      raft.put(id, host + ":" + (basePort + k));
      ingress.put(id, host + ":" + (basePort + 100 + k));
      admin.put(id, host + ":" + (basePort + 200 + k));
    }

    void remove(String id) {
      raft.remove(id);
      ingress.remove(id);
      admin.remove(id);
    }

    /** Whether every replica is on this machine's loopback, as 'cluster up' needs. */
    boolean local() {
      return raft.values().stream().allMatch(a -> Hosts.loopback(Hosts.of(a)));
    }
  }

  static String join(Map<String, String> peers) {
    List<String> parts = new ArrayList<>();
    peers.forEach((id, address) -> parts.add(id + "=" + address));
    return String.join(",", parts);
  }

  /**
   * Writes replica {@code id}'s directory: its certificate and key from the CA (naming its host),
   * the operator key, its settings. It listens on its own host's address.
   */
  static void writeReplica(Path dir, Certificates.Issued ca, String name, String id, Endpoints endpoints, SecureRandom random)
      throws IOException {
    Path rdir = Files.createDirectories(dir.resolve(id));
    String host = Hosts.of(endpoints.raft().get(id));
    Certificates.write(Certificates.issue(ca, id, Hosts.dnsNames(host), Hosts.ipAddresses(host), Duration.ofDays(3650), random),
        rdir.resolve("replica.crt"), rdir.resolve("replica.key"));
    // The replica's own copy of the operator key, private to it.
    Files.copy(dir.resolve("operator.key"), rdir.resolve("operator.key"));
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("cluster.name", name);
    settings.put("replica.id", id);
    settings.put("raft.peers", join(endpoints.raft()));
    settings.put("ingress.host", host);
    settings.put("ingress.port", Integer.toString(portOf(endpoints.ingress().get(id))));
    settings.put("ingress.peers", join(endpoints.ingress()));
    settings.put("http.host", host);
    settings.put("http.port", Integer.toString(portOf(endpoints.admin().get(id))));
    settings.put("http.peers", join(endpoints.admin()));
    settings.put("tls.ca", "../ca.crt");
    settings.put("tls.certificate", "replica.crt");
    settings.put("tls.key", "replica.key");
    settings.put("operator.id", name);
    settings.put("operator.key", "operator.key");
    settings.put("admin.publicKey", "../admin.pub");
    ReplicaSettings.write(rdir.resolve("replica.properties"), settings);
  }

  /** Rewrites every member's peer lists, so that a restarted replica knows the current members. */
  static void rewritePeers(List<Path> replicaDirs, Endpoints endpoints) throws IOException {
    for (Path rdir : replicaDirs) {
      Path file = rdir.resolve("replica.properties");
      List<String> lines = new ArrayList<>();
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith("raft.peers=")) {
          line = "raft.peers=" + join(endpoints.raft());
        } else if (line.startsWith("ingress.peers=")) {
          line = "ingress.peers=" + join(endpoints.ingress());
        } else if (line.startsWith("http.peers=")) {
          line = "http.peers=" + join(endpoints.admin());
        }
        lines.add(line);
      }
      Files.write(file, lines);
    }
  }

  /** How long a membership change may take: a new replica's catch-up included (by snapshot if the log was purged). */
  static final Duration MEMBERSHIP_CHANGE_LIMIT = Duration.ofSeconds(180);

  /**
   * A Raft membership change from {@code current} to {@code next}, bounded in time: Ratis' client
   * retries for ever when no member answers (a firewall dropping this machine's packets to the
   * Raft ports) or while the leader is busy with an earlier change.
   */
  static void changeMembers(dev.bulwark.server.raft.ReplicaServer.Members current, dev.bulwark.server.raft.RaftSettings raft,
      dev.bulwark.server.raft.ReplicaServer.Members next) throws InterruptedException {
    var done = new java.util.concurrent.CompletableFuture<Void>();
    Thread.ofPlatform().daemon().name("bulwark-membership-change").start(() -> {
      try {
        dev.bulwark.server.raft.ReplicaServer.changeMembers(current, raft, next);
        done.complete(null);
      } catch (IOException | RuntimeException e) {
        done.completeExceptionally(e);
      }
    });
    try {
      done.get(MEMBERSHIP_CHANGE_LIMIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new UserError("the membership change to " + next.addresses().keySet() + " did not finish within "
          + MEMBERSHIP_CHANGE_LIMIT.toSeconds() + " s. Check that this machine reaches every replica's Raft port ("
          + String.join(", ", current.addresses().values()) + ") and that a new replica runs, started with --join. "
          + "If 'cluster transfer-leader' says a reconfiguration is in progress, restart the leader's process and retry");
    } catch (java.util.concurrent.ExecutionException e) {
      throw new UserError("the membership change to " + next.addresses().keySet() + " failed: " + e.getCause().getMessage());
    }
  }

  /**
   * The status report once one of its lines satisfies {@code done}, polled every 100 ms at most
   * {@code attempts} times and for at most {@code attempts} x 400 ms; empty if it never did.
   */
  static Optional<List<String>> awaitStatus(Path dir, java.util.function.Predicate<String> done, int attempts)
      throws InterruptedException {
    // Bounded by time as well, since a report may take seconds when a host does not answer; with
    // slack for a loaded machine, where each report's TLS set-up alone takes a while.
    long deadline = System.nanoTime() + attempts * 400_000_000L;
    for (int i = 0; i < attempts && (i == 0 || System.nanoTime() < deadline); i++) {
      List<String> report = Status.report(dir);
      if (report.stream().anyMatch(done)) {
        return Optional.of(report);
      }
      Thread.sleep(100);
    }
    return Optional.empty();
  }

  static int portOf(String address) {
    return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
  }

  static Process startReplica(Path rdir, boolean join) throws IOException {
    return startReplica(rdir, join, java.util.function.UnaryOperator.identity());
  }

  /**
   * Starts the replica in {@code rdir} as a background process, its command line passed through
   * {@code launcher} first (e.g. to run it in a network namespace: the launcher must exec the
   * command, so that the pid file holds the replica's own pid).
   */
  static Process startReplica(Path rdir, boolean join, java.util.function.UnaryOperator<List<String>> launcher)
      throws IOException {
    ProcessBuilder builder = new ProcessBuilder(launcher.apply(replicaCommand(rdir, join))).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(rdir.resolve("replica.log").toFile()));
    // A replica's log records its events (leadership, snapshots, membership) unless told otherwise.
    builder.environment().putIfAbsent("BULWARK_LOG_LEVEL", "INFO");
    Process p = builder.start();
    Files.writeString(rdir.resolve("replica.pid"), Long.toString(p.pid()));
    return p;
  }

  /** Extra JVM options for every replica a command starts, after Bulwark's own (so {@code -Xmx2g} wins). */
  static final String REPLICA_JAVA_OPTS = "BULWARK_REPLICA_JAVA_OPTS";

  /** The command line of {@code bulwark serve} for the replica in {@code rdir}, on this JVM and class path. */
  static List<String> replicaCommand(Path rdir, boolean join) {
    return replicaCommand(rdir, join, System.getenv(REPLICA_JAVA_OPTS));
  }

  /** As {@link #replicaCommand(Path, boolean)}, with {@code extraJavaOptions} (null or blank: none) in place of the variable. */
  static List<String> replicaCommand(Path rdir, boolean join, String extraJavaOptions) {
    String java = ProcessHandle.current().info().command().orElse("java");
    // G1 with a 10 ms pause goal: at half of peak load the default goal (200 ms) set a p99 about
    // twice as long (docs/performance.md, "The collector"); ZGC's concurrent work starved two cores.
    List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xmx1g", "-XX:MaxGCPauseMillis=10"));
    // bin/bulwark names the AOT cache it ran with (see ./dev aot): a replica started from the same
    // jar starts about twice as fast with it.
    String aotCache = System.getProperty("bulwark.aotCache");
    if (aotCache != null && Files.isRegularFile(Path.of(aotCache))) {
      command.addAll(List.of("-XX:AOTCache=" + aotCache, "-Xlog:aot=off", "-Xlog:cds=off", "-Dbulwark.aotCache=" + aotCache));
    }
    // A logging configuration given to the command that starts replicas (say, Ratis' election
    // loggers at INFO, to see where a failover's time went) applies to the replicas too.
    String logging = System.getProperty("logback.configurationFile");
    if (logging != null) {
      command.add("-Dlogback.configurationFile=" + logging);
    }
    command.addAll(javaOptions(extraJavaOptions));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), BulwarkCommand.class.getName(), "serve",
        rdir.resolve("replica.properties").toAbsolutePath().toString()));
    if (join) {
      command.add("--join");
    }
    return command;
  }

  /**
   * The options of {@link #REPLICA_JAVA_OPTS}, split at white space. Each must start with '-':
   * a stray word would become the class the JVM runs, or a class path, and every replica would
   * fail to start with a message about neither, so it is refused here with one that names it.
   */
  static List<String> javaOptions(String extraJavaOptions) {
    if (extraJavaOptions == null || extraJavaOptions.isBlank()) {
      return List.of();
    }
    List<String> options = List.of(extraJavaOptions.trim().split("\\s+"));
    for (String option : options) {
      if (!option.startsWith("-") || option.equals("-cp") || option.equals("-classpath") || option.equals("-jar")
          || option.startsWith("--class-path")) {
        throw new UserError(REPLICA_JAVA_OPTS + " holds JVM options for the replicas, each starting with '-' (not a class "
            + "path or jar): '" + option + "' is not one");
      }
    }
    return options;
  }

  @Command(name = "add-replica", mixinStandardHelpOptions = true,
      description = {"Add a replica to a running cluster: issue its certificate, start it empty, and change the Raft "
          + "membership; it catches up from the leader (by snapshot if the log was purged).",
          "On another host (--host), in two steps: the first writes DIR/rN and says what to copy and run there "
              + "('bulwark serve rN/replica.properties --join'); once it runs, '--started rN' changes the membership."})
  static final class AddReplica implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The cluster directory.")
    Path dir;

    @Option(names = "--host", paramLabel = "HOST",
        description = "The new replica's host (IPv4 address or DNS name); default 127.0.0.1 for a local cluster.")
    String host;

    @Option(names = "--base-port", defaultValue = "7100",
        description = "As for 'cluster init': the k-th replica on a host uses base+k, base+100+k, base+200+k "
            + "(default ${DEFAULT-VALUE}; a local cluster continues from its highest ports instead).")
    int basePort;

    @Option(names = "--started", paramLabel = "REPLICA",
        description = "Add replica REPLICA, prepared earlier with --host and now running with --join on its host.")
    String started;

    @Override
    public Integer call() throws Exception {
      List<Path> existing = replicaDirs(dir);
      ReplicaSettings first = ReplicaSettings.read(existing.getFirst().resolve("replica.properties"));
      Endpoints current = Endpoints.of(first);
      PrintWriter out = spec.commandLine().getOut();
      if (started != null) {
        if (host != null) {
          throw new UserError("--started adds a replica prepared earlier: its host is in its replica.properties");
        }
        Path rdir = dir.resolve(started);
        if (current.raft().containsKey(started) || !Files.isRegularFile(rdir.resolve("replica.properties"))) {
          throw new UserError(started + " is already a member or was never prepared (no " + rdir.resolve("replica.properties")
              + ")");
        }
        return join(first, current, Endpoints.of(ReplicaSettings.read(rdir.resolve("replica.properties"))), started, out);
      }
      String target = host != null ? host.strip() : LOCAL_HOST;
      if (host == null && !current.local()) {
        throw new UserError("this cluster's replicas are on other hosts: say where the new one runs with --host");
      }
      Hosts.check(target);
      int n = current.raft().size() + 1;
      while (current.raft().containsKey("r" + n) || Files.exists(dir.resolve("r" + n))) {
        n++;
      }
      String id = "r" + n;
      Endpoints next = Endpoints.of(first);
      if (Hosts.loopback(target) && current.local()) {
        // A local cluster's replicas share a host: continue after its highest ports.
        int raftPort = current.raft().values().stream().mapToInt(ClusterCommand::portOf).max().orElseThrow() + 1;
        int ingressPort = current.ingress().values().stream().mapToInt(ClusterCommand::portOf).max().orElseThrow() + 1;
        int adminPort = current.admin().values().stream().mapToInt(ClusterCommand::portOf).max().orElseThrow() + 1;
        next.raft().put(id, target + ":" + raftPort);
        next.ingress().put(id, target + ":" + ingressPort);
        next.admin().put(id, target + ":" + adminPort);
      } else {
        if (basePort < 1024 || basePort + 210 > 65535) {
          throw new UserError("--base-port must be between 1024 and 65325");
        }
        next.add(id, target, basePort);
      }
      Certificates.Issued ca = Certificates.read(dir.resolve("ca.crt"), dir.resolve("ca.key"));
      writeReplica(dir, ca, first.cluster(), id, next, new SecureRandom());
      if (!Hosts.loopback(target)) {
        out.printf("%s prepared in %s for %s: Raft %s, clients %s, admin API %s%n", id, dir.resolve(id), target,
            next.raft().get(id), next.ingress().get(id), next.admin().get(id));
        out.printf("next: copy %s/, ca.crt and admin.pub to %s, start it there with "
            + "'bulwark serve %s/replica.properties --join', then run: bulwark cluster add-replica %s --started %s%n",
            id, target, id, dir, id);
        return 0;
      }
      Process p = startReplica(dir.resolve(id), true);
      out.println(id + ": started empty, pid " + p.pid() + "; changing the membership");
      out.flush();
      return join(first, current, next, id, out);
    }

    /** Changes the membership from {@code current} to {@code next}, records it in every replica directory, waits for {@code id}. */
    private int join(ReplicaSettings first, Endpoints current, Endpoints next, String id, PrintWriter out) throws Exception {
      changeMembers(
          new dev.bulwark.server.raft.ReplicaServer.Members(first.cluster(), current.raft()), ServeCommand.raftSettings(first),
          new dev.bulwark.server.raft.ReplicaServer.Members(first.cluster(), next.raft(), next.ingress()));
      rewritePeers(replicaDirs(dir), next);
      Optional<List<String>> joined =
          awaitStatus(dir, l -> l.startsWith(id + " ") && (l.contains("follows r") || l.endsWith("leads")), 300);
      if (joined.isPresent()) {
        joined.get().forEach(out::println);
        if (!next.local()) {
          out.println("the peer lists in " + dir + "/*/replica.properties now name " + id
              + ": copy each to its host (replicas read them at start)");
        }
        return 0;
      }
      out.println(id + " did not join within 30 s; see its log on its host");
      return 1;
    }
  }

  @Command(name = "remove-replica", mixinStandardHelpOptions = true,
      description = "Remove a replica from a running cluster: change the Raft membership, then stop it if it runs on "
          + "this machine. Its directory stays, its replica.properties renamed so that 'cluster up' and 'status' skip it.")
  static final class RemoveReplica implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The cluster directory.")
    Path dir;

    @Parameters(index = "1", paramLabel = "REPLICA", description = "The replica to remove, e.g. r2.")
    String id;

    @Override
    public Integer call() throws Exception {
      List<Path> existing = replicaDirs(dir);
      ReplicaSettings first = ReplicaSettings.read(existing.getFirst().resolve("replica.properties"));
      if (!first.raftPeers().containsKey(id)) {
        throw new UserError("no replica " + id + " in " + first.raftPeers().keySet());
      }
      if (first.raftPeers().size() < 2) {
        throw new UserError("a cluster keeps at least one replica");
      }
      Endpoints next = Endpoints.of(first);
      next.remove(id);
      ReplicaSettings any = ReplicaSettings.read(dir.resolve(next.raft().keySet().iterator().next()).resolve("replica.properties"));
      changeMembers(
          new dev.bulwark.server.raft.ReplicaServer.Members(first.cluster(), first.raftPeers()), ServeCommand.raftSettings(any),
          new dev.bulwark.server.raft.ReplicaServer.Members(first.cluster(), next.raft(), next.ingress()));
      boolean local = running(dir.resolve(id)).isPresent() || Hosts.loopback(Hosts.of(first.raftPeers().get(id)));
      Path rdir = dir.resolve(id);
      running(rdir).ifPresent(p -> {
        p.destroy();
        try {
          p.onExit().get(20, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
          p.destroyForcibly();
        }
      });
      Files.deleteIfExists(rdir.resolve("replica.pid"));
      Files.move(rdir.resolve("replica.properties"), rdir.resolve("replica.properties.removed"));
      rewritePeers(replicaDirs(dir), next);
      PrintWriter out = spec.commandLine().getOut();
      if (local) {
        out.println(id + ": removed from the cluster and stopped");
      } else {
        out.println(id + ": removed from the cluster; stop it on " + Hosts.of(first.raftPeers().get(id))
            + " (e.g. 'systemctl stop bulwark-replica@" + id + "') and copy the updated replica.properties to the other hosts");
      }
      Status.report(dir).forEach(out::println);
      return 0;
    }
  }

  @Command(name = "up", mixinStandardHelpOptions = true,
      description = "Start every replica of a cluster directory as a background process (pid file and log in its directory), "
          + "then wait for a leader.")
  static final class Up implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The cluster directory.")
    Path dir;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      List<String> remote = new ArrayList<>();
      for (Path rdir : replicaDirs(dir)) {
        ReplicaSettings s = ReplicaSettings.read(rdir.resolve("replica.properties"));
        String host = Hosts.of(s.raftPeers().get(s.id()));
        if (!Hosts.loopback(host)) {
          remote.add(s.id() + " on " + host);
        }
      }
      if (!remote.isEmpty()) {
        throw new UserError("'cluster up' starts local clusters only, and " + String.join(", ", remote)
            + ": run 'bulwark serve rN/replica.properties' on each host instead (see docs/deploy.md)");
      }
      for (Path rdir : replicaDirs(dir)) {
        if (running(rdir).isPresent()) {
          out.println(rdir.getFileName() + ": already running");
          continue;
        }
        Process p = startReplica(rdir, false);
        out.println(rdir.getFileName() + ": started, pid " + p.pid() + ", log " + rdir.resolve("replica.log"));
      }
      out.flush();
      // A minute: three JVMs starting at once on a small, busy machine take tens of seconds.
      Optional<List<String>> led = awaitStatus(dir, l -> l.endsWith("leads"), 600);
      if (led.isPresent()) {
        led.get().forEach(out::println);
        return 0;
      }
      out.println("no leader after 60 s; see the replicas' logs");
      Status.report(dir).forEach(out::println);
      return 1;
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Show each replica of a cluster directory: running or not, and who leads.")
  static final class Status implements Runnable {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The cluster directory.")
    Path dir;

    @Override
    public void run() {
      report(dir).forEach(spec.commandLine().getOut()::println);
    }

    static List<String> report(Path dir) {
      List<String> lines = new ArrayList<>();
      for (Path rdir : replicaDirs(dir)) {
        ReplicaSettings s = ReplicaSettings.read(rdir.resolve("replica.properties"));
        Optional<ProcessHandle> process = running(rdir);
        String address = clientAddress(s);
        // A replica started from this machine has a pid file here; one on another host is only asked.
        boolean startedHere = Files.exists(rdir.resolve("replica.pid")) || Hosts.loopback(Hosts.of(address));
        String state = startedHere && process.isEmpty() ? "down" : probe(s);
        lines.add(String.format("%-4s %-10s %-22s %s", s.id(), process.map(p -> "pid " + p.pid()).orElse("-"), address, state));
      }
      return lines;
    }

    /** Asks a replica over TLS with a request it cannot decode: a leader refuses it, a follower names the leader. */
    static String probe(ReplicaSettings s) {
      try (SSLSocket socket = connect(s)) {
        DataOutputStream out = new DataOutputStream(socket.getOutputStream());
        DataInputStream in = new DataInputStream(socket.getInputStream());
        byte[] frame = Frame.CODEC.encode(new Frame.Request(1, new ClientRequest(Bytes.utf8("status-probe"), 1,
            Bytes.fromHex("ff")))).toByteArray();
        out.writeInt(frame.length);
        out.write(frame);
        out.flush();
        byte[] reply = new byte[in.readInt()];
        in.readFully(reply);
        Frame f = Frame.CODEC.decode(Bytes.adopt(reply));
        if (f instanceof Frame.Response r) {
          return switch (r.outcome()) {
            case Outcome.NotLeader n -> "follows " + n.leaderId().orElse("(no leader yet)");
            default -> "leads";
          };
        }
        return "answers oddly";
      } catch (Exception e) {
        return "not answering (" + e.getClass().getSimpleName() + ")";
      }
    }

    /** Where clients reach replica {@code s}: its entry in ingress.peers (it may listen on 0.0.0.0), else its ingress.host. */
    static String clientAddress(ReplicaSettings s) {
      return s.ingressPeers().getOrDefault(s.id(), s.ingressHost() + ":" + s.ingressPort());
    }

    /** A TLS connection to one replica's client port, its certificate checked against the cluster CA. */
    static SSLSocket connect(ReplicaSettings s) throws Exception {
      X509Certificate ca;
      try (var in = Files.newInputStream(s.ca())) {
        ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      }
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("ca", ca);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLSv1.3");
      context.init(null, tmf.getTrustManagers(), new SecureRandom());
      String address = clientAddress(s);
      java.net.Socket plain = new java.net.Socket();
      try {
        plain.connect(new java.net.InetSocketAddress(Hosts.of(address), portOf(address)), 2000);
      } catch (IOException e) {
        plain.close();
        throw e;
      }
      // Layered over the connected socket with the host's name, which the certificate must carry.
      SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, Hosts.of(address), portOf(address), true);
      SSLParameters params = socket.getSSLParameters();
      params.setEndpointIdentificationAlgorithm("HTTPS");
      socket.setSSLParameters(params);
      socket.setSoTimeout(2000);
      socket.startHandshake();
      return socket;
    }
  }

  @Command(name = "transfer-leader", mixinStandardHelpOptions = true,
      description = "Hand leadership to another replica (the seed's 'operators select the master').")
  static final class TransferLeader implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The cluster directory.")
    Path dir;

    @Parameters(index = "1", paramLabel = "REPLICA", description = "The replica that should lead, e.g. r2.")
    String target;

    @Override
    public Integer call() throws Exception {
      ReplicaSettings s = ReplicaSettings.read(replicaDirs(dir).getFirst().resolve("replica.properties"));
      try {
        dev.bulwark.server.raft.ReplicaServer.transferLeadership(
            new dev.bulwark.server.raft.ReplicaServer.Members(s.cluster(), s.raftPeers()), ServeCommand.raftSettings(s),
            target, 10_000);
      } catch (IOException e) {
        throw new UserError(e.getMessage());
      }
      PrintWriter out = spec.commandLine().getOut();
      Optional<List<String>> moved = awaitStatus(dir, l -> l.startsWith(target + " ") && l.endsWith("leads"), 100);
      if (moved.isPresent()) {
        moved.get().forEach(out::println);
        return 0;
      }
      out.println(target + " did not take over within 10 s");
      return 1;
    }
  }

  @Command(name = "down", mixinStandardHelpOptions = true,
      description = "Stop every replica of a cluster directory (SIGTERM, then SIGKILL after 20 s).")
  static final class Down implements Runnable {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The cluster directory.")
    Path dir;

    @Override
    public void run() {
      PrintWriter out = spec.commandLine().getOut();
      List<ProcessHandle> stopping = new ArrayList<>();
      for (Path rdir : replicaDirs(dir)) {
        Optional<ProcessHandle> p = running(rdir);
        if (p.isPresent()) {
          p.get().destroy();
          stopping.add(p.get());
          out.println(rdir.getFileName() + ": stopping pid " + p.get().pid());
        } else {
          out.println(rdir.getFileName() + ": not running");
        }
      }
      for (ProcessHandle p : stopping) {
        try {
          p.onExit().get(20, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
          p.destroyForcibly();
          out.println("pid " + p.pid() + " did not stop in 20 s: killed");
        }
      }
      for (Path rdir : replicaDirs(dir)) {
        try {
          Files.deleteIfExists(rdir.resolve("replica.pid"));
        } catch (IOException e) {
          out.println("cannot remove " + rdir.resolve("replica.pid") + ": " + e.getMessage());
        }
      }
      out.println("stopped");
    }
  }
}
