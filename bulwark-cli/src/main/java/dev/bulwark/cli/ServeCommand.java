package dev.bulwark.cli;

import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.ledger.Account;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.server.admin.AdminServer;
import dev.bulwark.server.admin.ReplicaMetrics;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.ledger.LedgerResult;
import dev.bulwark.server.net.IngressServer;
import dev.bulwark.server.raft.RaftSettings;
import dev.bulwark.server.raft.ReplicaServer;
import dev.bulwark.store.keys.KeyFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** One ledger replica in the foreground, until it is stopped (SIGTERM or Ctrl-C). */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Run one replica in the foreground from its replica.properties (as 'bulwark cluster init' writes it).")
final class ServeCommand implements Runnable {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "CONFIG", description = "The replica's replica.properties.")
  Path config;

  @picocli.CommandLine.Option(names = "--join",
      description = "Start empty and wait to be added to a running cluster (see 'bulwark cluster add-replica').")
  boolean join;

  /** The file's Raft limits, and mutual TLS between replicas with this one's certificate from the cluster CA. */
  static RaftSettings raftSettings(ReplicaSettings s) {
    return s.raft();
  }

  /** Accounts by name in the admin API: /state/accounts/NAME, with the balance shown. */
  static AdminServer.StateView accountsView() {
    return new AdminServer.StateView("accounts", name -> {
      if (!Ledger.ACCOUNT_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("'" + name + "' is not an account name");
      }
      return Ledger.ACCOUNTS.keyBytes(name);
    }, value -> {
      Account a = Account.CODEC.decode(value);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("owner", a.owner().hex());
      out.put("balance", a.balance());
      out.put("nonce", a.nonce());
      return out;
    });
  }

  /**
   * The exit status of a replica that found itself in Ratis 3.2.0's step-down deadlock, which
   * only a restart clears (EX_TEMPFAIL: run it again). A supervisor (systemd's
   * {@code Restart=on-failure}, {@code bulwark chaos}) restarts it.
   */
  static final int RAFT_DEADLOCK_EXIT_STATUS = 75;

  /** How long a thread may hold the Raft server's monitor while waiting before that counts as the deadlock. */
  static final java.time.Duration RAFT_DEADLOCK_LIMIT = java.time.Duration.ofSeconds(30);

  /**
   * The same in the deadlock's own stack (a leader stepping down, joining its appenders), a wait
   * of milliseconds when nothing is wrong. Longer than a chaos pause (at most 4 s), so that a
   * step-down frozen by SIGSTOP is not taken for it. A chaos run (seed 1127) lost 30 s of a
   * replica to one deadlock, and four leader kills in those 30 s took 4.7 to 5.7 s to fail over.
   */
  static final java.time.Duration RAFT_STEP_DOWN_JOIN_LIMIT = java.time.Duration.ofSeconds(8);

  @Override
  public void run() {
    // How long a start takes, by part, goes into the start line: a restarted replica is out of
    // the majority until it is up, and chaos runs saw starts of 10 s and more under load.
    long jvmMs = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
    long runStarted = System.nanoTime();
    // Every setting is parsed and checked (and every key file read) before anything opens.
    ReplicaSettings s = ReplicaSettings.read(config);
    SigningKey operatorKey = KeyFiles.readPrivateKey(s.operatorKey());
    Ledger ledger = new Ledger(KeyFiles.readPublicKey(s.adminPublicKey()));
    Path dir = config.toAbsolutePath().getParent();
    var members = new ReplicaServer.Members(s.cluster(), s.raftPeers(), clientEndpoints(s));
    long replicaStarting = System.nanoTime();
    var replica = join && !java.nio.file.Files.exists(dir.resolve("data"))
        ? ReplicaServer.<LedgerRequest, LedgerResult>join(s.id(), members, dir.resolve("data"), ledger, s.engine(),
            s.raft(), operatorKey, InstantSource.system(), s.storeCacheBytesMax())
        : ReplicaServer.<LedgerRequest, LedgerResult>start(s.id(), members, dir.resolve("data"), ledger, s.engine(),
            s.raft(), operatorKey, InstantSource.system(), s.storeCacheBytesMax());
    long replicaStarted = System.nanoTime();
    replica.watchForRaftDeadlock(RAFT_DEADLOCK_LIMIT, RAFT_STEP_DOWN_JOIN_LIMIT, report -> {
      System.err.println("bulwark: replica " + s.id() + " is stuck in a Ratis deadlock (RATIS-2345) that only a restart "
          + "clears; exiting with status " + RAFT_DEADLOCK_EXIT_STATUS + " for its supervisor to restart it. " + report);
      System.err.flush();
      Runtime.getRuntime().halt(RAFT_DEADLOCK_EXIT_STATUS);
    });
    IngressServer ingress;
    try {
      ingress = IngressServer.start(s.ingress(), replica::submit, new IngressServer.Queries() {
            @Override public dev.bulwark.core.protocol.Frame.Answer state(dev.bulwark.core.Bytes key) {
              return replica.query(key);
            }

            @Override public dev.bulwark.core.Bytes application(String name, dev.bulwark.core.Bytes argument) {
              return replica.appQuery(name, argument);
            }

            @Override public java.util.concurrent.CompletableFuture<Void> readBarrier() {
              return replica.readBarrier();
            }

            @Override public java.util.Map<String, String> members() {
              return replica.clientEndpoints();
            }
          });
    } catch (RuntimeException e) {
      replica.close();
      throw e;
    }
    ReplicaMetrics metrics = new ReplicaMetrics(replica);
    ingress.observe(metrics);
    AdminServer admin;
    try {
      admin = AdminServer.start(s.admin(), replica, List.of(accountsView()), metrics);
    } catch (RuntimeException e) {
      ingress.close();
      replica.close();
      throw e;
    }
    PrintWriter out = spec.commandLine().getOut();
    long up = System.nanoTime();
    out.printf("replica %s of cluster '%s': clients on %s:%d, Raft on %s, dashboard and admin API on http://%s:%d/ "
            + "(up in %d ms: JVM %d, settings and keys %d, store and Raft %d, client and admin servers %d)%n", s.id(),
        s.cluster(), ingress.address().getHostString(), ingress.address().getPort(), s.raftPeers().get(s.id()),
        admin.address().getHostString(), admin.address().getPort(), jvmMs + (up - runStarted) / 1_000_000, jvmMs,
        (replicaStarting - runStarted) / 1_000_000, (replicaStarted - replicaStarting) / 1_000_000,
        (up - replicaStarted) / 1_000_000);
    out.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      admin.close();
      ingress.close();
      replica.close();
      stopped.countDown();
    }, "bulwark-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The client endpoints of the Raft members among ingress.peers (a peer list may name more while a change is under way). */
  static java.util.Map<String, String> clientEndpoints(ReplicaSettings s) {
    java.util.Map<String, String> out = new java.util.LinkedHashMap<>(s.ingressPeers());
    out.keySet().retainAll(s.raftPeers().keySet());
    return out;
  }
}
