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
          + "replica a certificate and a replica.properties, all on 127.0.0.1.",
          "Private keys are written with mode 0600."})
  static final class Init implements Runnable {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The new cluster's directory (must not exist or be empty).")
    Path dir;

    @Option(names = "--replicas", defaultValue = "3", description = "How many replicas (1 to 9, default ${DEFAULT-VALUE}).")
    int replicas;

    @Option(names = "--base-port", defaultValue = "7100",
        description = "Raft listens on base+1.., clients connect to base+101.. (default ${DEFAULT-VALUE}).")
    int basePort;

    @Option(names = "--name", defaultValue = "bulwark", description = "The cluster's and operator's name (default ${DEFAULT-VALUE}).")
    String name;

    @Override
    public void run() {
      if (replicas < 1 || replicas > 9) {
        throw new UserError("--replicas must be between 1 and 9");
      }
      if (basePort < 1024 || basePort + 200 > 65535) {
        throw new UserError("--base-port must be between 1024 and 65335");
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
        Map<String, String> raft = new LinkedHashMap<>();
        Map<String, String> ingress = new LinkedHashMap<>();
        for (int i = 1; i <= replicas; i++) {
          raft.put("r" + i, "127.0.0.1:" + (basePort + i));
          ingress.put("r" + i, "127.0.0.1:" + (basePort + 100 + i));
        }
        for (int i = 1; i <= replicas; i++) {
          writeReplica(dir, ca, name, "r" + i, raft, ingress, random);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("cluster '%s' in %s: %d replicas, clients on %s%n", name, dir, replicas, String.join(", ", ingress.values()));
        out.printf("operator key %s, admin key %s%n", operator.publicKey().fingerprint(), admin.publicKey().fingerprint());
        out.println("start it with: bin/bulwark cluster up " + dir);
      } catch (IOException e) {
        throw new UserError("cannot create the cluster in " + dir + ": " + e.getMessage());
      }
    }

  }

  static String join(Map<String, String> peers) {
    List<String> parts = new ArrayList<>();
    peers.forEach((id, address) -> parts.add(id + "=" + address));
    return String.join(",", parts);
  }

  /** Writes replica {@code id}'s directory: its certificate and key from the CA, the operator key, its settings. */
  static void writeReplica(Path dir, Certificates.Issued ca, String name, String id, Map<String, String> raft,
      Map<String, String> ingress, SecureRandom random) throws IOException {
    Path rdir = Files.createDirectories(dir.resolve(id));
    Certificates.write(Certificates.issue(ca, id, List.of("localhost"), List.of("127.0.0.1"), Duration.ofDays(3650), random),
        rdir.resolve("replica.crt"), rdir.resolve("replica.key"));
    // The replica's own copy of the operator key, private to it.
    Files.copy(dir.resolve("operator.key"), rdir.resolve("operator.key"));
    String ingressAddress = ingress.get(id);
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("cluster.name", name);
    settings.put("replica.id", id);
    settings.put("raft.peers", join(raft));
    settings.put("ingress.host", ingressAddress.substring(0, ingressAddress.lastIndexOf(':')));
    settings.put("ingress.port", ingressAddress.substring(ingressAddress.lastIndexOf(':') + 1));
    settings.put("ingress.peers", join(ingress));
    settings.put("tls.ca", "../ca.crt");
    settings.put("tls.certificate", "replica.crt");
    settings.put("tls.key", "replica.key");
    settings.put("operator.id", name);
    settings.put("operator.key", "operator.key");
    settings.put("admin.publicKey", "../admin.pub");
    ReplicaSettings.write(rdir.resolve("replica.properties"), settings);
  }

  /** Rewrites every member's peer lists, so that a restarted replica knows the current members. */
  static void rewritePeers(List<Path> replicaDirs, Map<String, String> raft, Map<String, String> ingress) throws IOException {
    for (Path rdir : replicaDirs) {
      Path file = rdir.resolve("replica.properties");
      List<String> lines = new ArrayList<>();
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith("raft.peers=")) {
          line = "raft.peers=" + join(raft);
        } else if (line.startsWith("ingress.peers=")) {
          line = "ingress.peers=" + join(ingress);
        }
        lines.add(line);
      }
      Files.write(file, lines);
    }
  }

  /**
   * The status report once one of its lines satisfies {@code done}, polled every 100 ms at most
   * {@code attempts} times; empty if it never did.
   */
  static Optional<List<String>> awaitStatus(Path dir, java.util.function.Predicate<String> done, int attempts)
      throws InterruptedException {
    for (int i = 0; i < attempts; i++) {
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
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xmx1g"));
    // bin/bulwark names the AOT cache it ran with (see ./dev aot): a replica started from the same
    // jar starts about twice as fast with it.
    String aotCache = System.getProperty("bulwark.aotCache");
    if (aotCache != null && Files.isRegularFile(Path.of(aotCache))) {
      command.addAll(List.of("-XX:AOTCache=" + aotCache, "-Xlog:aot=off", "-Xlog:cds=off", "-Dbulwark.aotCache=" + aotCache));
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), BulwarkCommand.class.getName(), "serve",
        rdir.resolve("replica.properties").toAbsolutePath().toString()));
    if (join) {
      command.add("--join");
    }
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(rdir.resolve("replica.log").toFile()));
    // A replica's log records its events (leadership, snapshots, membership) unless told otherwise.
    builder.environment().putIfAbsent("BULWARK_LOG_LEVEL", "INFO");
    Process p = builder.start();
    Files.writeString(rdir.resolve("replica.pid"), Long.toString(p.pid()));
    return p;
  }

  @Command(name = "add-replica", mixinStandardHelpOptions = true,
      description = "Add a replica to a running local cluster: issue its certificate, start it empty, and change the "
          + "Raft membership; it catches up from the leader (by snapshot if the log was purged).")
  static final class AddReplica implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The cluster directory.")
    Path dir;

    @Override
    public Integer call() throws Exception {
      List<Path> existing = replicaDirs(dir);
      ReplicaSettings first = ReplicaSettings.read(existing.getFirst().resolve("replica.properties"));
      Map<String, String> raft = new LinkedHashMap<>(first.raftPeers());
      Map<String, String> ingress = new LinkedHashMap<>(first.ingressPeers());
      int n = raft.size() + 1;
      while (raft.containsKey("r" + n) || Files.exists(dir.resolve("r" + n))) {
        n++;
      }
      String id = "r" + n;
      int raftPort = raft.values().stream().mapToInt(ClusterCommand::portOf).max().orElseThrow() + 1;
      int ingressPort = ingress.values().stream().mapToInt(ClusterCommand::portOf).max().orElseThrow() + 1;
      Map<String, String> nextRaft = new LinkedHashMap<>(raft);
      nextRaft.put(id, "127.0.0.1:" + raftPort);
      Map<String, String> nextIngress = new LinkedHashMap<>(ingress);
      nextIngress.put(id, "127.0.0.1:" + ingressPort);
      Certificates.Issued ca = Certificates.read(dir.resolve("ca.crt"), dir.resolve("ca.key"));
      writeReplica(dir, ca, first.cluster(), id, nextRaft, nextIngress, new SecureRandom());
      Process p = startReplica(dir.resolve(id), true);
      PrintWriter out = spec.commandLine().getOut();
      out.println(id + ": started empty, pid " + p.pid() + "; changing the membership");
      out.flush();
      dev.bulwark.server.raft.ReplicaServer.changeMembers(
          new dev.bulwark.server.raft.ReplicaServer.Members(first.cluster(), raft), ServeCommand.raftSettings(first),
          new dev.bulwark.server.raft.ReplicaServer.Members(first.cluster(), nextRaft));
      rewritePeers(replicaDirs(dir), nextRaft, nextIngress);
      Optional<List<String>> joined =
          awaitStatus(dir, l -> l.startsWith(id + " ") && (l.contains("follows r") || l.endsWith("leads")), 300);
      if (joined.isPresent()) {
        joined.get().forEach(out::println);
        return 0;
      }
      out.println(id + " did not join within 30 s; see " + dir.resolve(id).resolve("replica.log"));
      return 1;
    }
  }

  @Command(name = "remove-replica", mixinStandardHelpOptions = true,
      description = "Remove a replica from a running local cluster: change the Raft membership, then stop it. Its "
          + "directory stays, its replica.properties renamed so that 'cluster up' skips it.")
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
      Map<String, String> nextRaft = new LinkedHashMap<>(first.raftPeers());
      nextRaft.remove(id);
      Map<String, String> nextIngress = new LinkedHashMap<>(first.ingressPeers());
      nextIngress.remove(id);
      ReplicaSettings any = ReplicaSettings.read(dir.resolve(nextRaft.keySet().iterator().next()).resolve("replica.properties"));
      dev.bulwark.server.raft.ReplicaServer.changeMembers(
          new dev.bulwark.server.raft.ReplicaServer.Members(first.cluster(), first.raftPeers()), ServeCommand.raftSettings(any),
          new dev.bulwark.server.raft.ReplicaServer.Members(first.cluster(), nextRaft));
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
      rewritePeers(replicaDirs(dir), nextRaft, nextIngress);
      PrintWriter out = spec.commandLine().getOut();
      out.println(id + ": removed from the cluster and stopped");
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
      for (Path rdir : replicaDirs(dir)) {
        if (running(rdir).isPresent()) {
          out.println(rdir.getFileName() + ": already running");
          continue;
        }
        Process p = startReplica(rdir, false);
        out.println(rdir.getFileName() + ": started, pid " + p.pid() + ", log " + rdir.resolve("replica.log"));
      }
      out.flush();
      Optional<List<String>> led = awaitStatus(dir, l -> l.endsWith("leads"), 300);
      if (led.isPresent()) {
        led.get().forEach(out::println);
        return 0;
      }
      out.println("no leader after 30 s; see the replicas' logs");
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
        String state = process.isEmpty() ? "down" : probe(s);
        lines.add(String.format("%-4s %-8s %-22s %s", s.id(), process.map(p -> "pid " + p.pid()).orElse("-"),
            s.ingressHost() + ":" + s.ingressPort(), state));
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
      SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(s.ingressHost(), s.ingressPort());
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
