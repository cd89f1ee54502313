package dev.bulwark.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local cluster as a user drives it: init writes keys, certificates and configuration; up
 * starts three replica processes and waits for a leader; status names the leader, also after
 * the leader's process is killed; down stops them all.
 */
class ClusterCommandTest {
  @TempDir
  Path dir;

  Path cluster;

  record Run(int exit, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cli = BulwarkCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return new Run(cli.execute(args), out.toString(), err.toString());
  }

  /** A base port whose Raft, client and admin ports for three replicas are all free on 127.0.0.1 now. */
  static int freeBasePort() throws IOException {
    return Ports.freeBasePort(3, java.util.OptionalInt.empty(), new java.util.SplittableRandom())
        .orElseThrow(() -> new IOException("no free port range found"));
  }

  @AfterEach
  void stopEverything() {
    if (cluster != null && Files.isDirectory(cluster)) {
      run("cluster", "down", cluster.toString());
    }
  }

  @Test
  void aReplicaIsStartedWithTheLoggingConfigurationOfTheCommandThatStartsIt() {
    Path rdir = dir.resolve("r1");
    String before = System.getProperty("logback.configurationFile");
    try {
      System.clearProperty("logback.configurationFile");
      assertThat(ClusterCommand.replicaCommand(rdir, false)).noneMatch(arg -> arg.startsWith("-Dlogback"))
          .endsWith("serve", rdir.resolve("replica.properties").toAbsolutePath().toString());
      System.setProperty("logback.configurationFile", "/etc/bulwark/elections.xml");
      List<String> command = ClusterCommand.replicaCommand(rdir, true);
      assertThat(command).contains("-Dlogback.configurationFile=/etc/bulwark/elections.xml").endsWith("--join");
      assertThat(command.indexOf("-Dlogback.configurationFile=/etc/bulwark/elections.xml"))
          .isLessThan(command.indexOf("serve"));
    } finally {
      if (before == null) {
        System.clearProperty("logback.configurationFile");
      } else {
        System.setProperty("logback.configurationFile", before);
      }
    }
  }

  @Test
  void replicasGetTheExtraJavaOptionsAfterBulwarksOwnSoThatTheirsWin() {
    Path rdir = dir.resolve("r1");
    assertThat(ClusterCommand.replicaCommand(rdir, false, null)).isEqualTo(ClusterCommand.replicaCommand(rdir, false, "  "));
    List<String> command = ClusterCommand.replicaCommand(rdir, false, " -Xmx3g  -XX:+UseZGC ");
    assertThat(command).containsSubsequence("-Xmx1g", "-Xmx3g", "-XX:+UseZGC", "-cp", "serve");
    assertThat(command.stream().filter(arg -> arg.startsWith("-Xmx"))).containsExactly("-Xmx1g", "-Xmx3g");
  }

  @Test
  void extraJavaOptionsThatAreNotOptionsAreRefusedWithTheirName() {
    java.util.Map<String, String> offender = java.util.Map.of("-Xmx2g Main", "Main", "-cp /tmp/x.jar", "-cp",
        "-jar other.jar", "-jar", "--class-path=/x", "--class-path=/x");
    offender.forEach((options, named) -> assertThatThrownBy(() -> ClusterCommand.javaOptions(options)).as(options)
        .isInstanceOf(UserError.class).hasMessageContaining(ClusterCommand.REPLICA_JAVA_OPTS)
        .hasMessageContaining("'" + named + "' is not one"));
  }

  @Test
  void initUpStatusKillAndDown() throws Exception {
    cluster = dir.resolve("cluster");
    Run init = run("cluster", "init", cluster.toString(), "--base-port", Integer.toString(freeBasePort()));
    assertThat(init.exit()).as(init.err()).isZero();
    for (String secret : new String[] {"ca.key", "operator.key", "admin.key", "r1/replica.key", "r1/operator.key"}) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(cluster.resolve(secret))))
          .as(secret).isEqualTo("rw-------");
    }
    assertThat(run("cluster", "init", cluster.toString()).err()).contains("is not empty");

    Run up = run("cluster", "up", cluster.toString());
    assertThat(up.exit()).as(up.out() + up.err()).isZero();
    assertThat(up.out().lines().filter(l -> l.endsWith("leads")).count()).isEqualTo(1);

    // Raft traffic needs a certificate from the cluster CA: a TLS client without one is refused.
    ReplicaSettings r1 = ReplicaSettings.read(cluster.resolve("r1/replica.properties"));
    String raftAddress = r1.raftPeers().get("r1");
    int raftPort = Integer.parseInt(raftAddress.substring(raftAddress.lastIndexOf(':') + 1));
    java.security.cert.X509Certificate caCert;
    try (var in = Files.newInputStream(cluster.resolve("ca.crt"))) {
      caCert = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
          .generateCertificate(in);
    }
    java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", caCert);
    var tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    var tls = javax.net.ssl.SSLContext.getInstance("TLSv1.3");
    tls.init(null, tmf.getTrustManagers(), new java.security.SecureRandom());
    try (var socket = (javax.net.ssl.SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", raftPort)) {
      socket.setSoTimeout(5000);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
        socket.startHandshake();
        socket.getOutputStream().write(new byte[] {0, 0, 0, 0});
        socket.getOutputStream().flush();
        if (socket.getInputStream().read() < 0) {
          throw new java.io.EOFException("closed");
        }
      }).satisfiesAnyOf(
          // The server's alert arrives first ...
          e -> assertThat(e).isInstanceOf(javax.net.ssl.SSLException.class).hasMessageContaining("certificate"),
          // ... or it has already closed the connection when the client writes or reads.
          e -> assertThat(e).isInstanceOfAny(java.net.SocketException.class, java.io.EOFException.class));
    }

    // The ledger through the client: receipts and proofs are checked before anything prints.
    String c = cluster.toString();
    assertThat(run("keys", "generate", "--out", dir.toString(), "--name", "alice").exit()).isZero();
    assertThat(run("keys", "generate", "--out", dir.toString(), "--name", "bob").exit()).isZero();
    Run opened = run("account", "create", "alice", "--cluster", c, "--owner-key", dir.resolve("alice.key").toString());
    assertThat(opened.exit()).as(opened.out() + opened.err()).isZero();
    assertThat(opened.out()).contains("opened: alice has 0", "receipt verified");
    assertThat(run("account", "create", "bob", "--cluster", c, "--owner-key", dir.resolve("bob.key").toString()).exit()).isZero();
    assertThat(run("deposit", "alice", "100", "--cluster", c).out()).contains("deposited 100: alice has 100");
    assertThat(run("transfer", "alice", "bob", "30", "--cluster", c, "--owner-key", dir.resolve("alice.key").toString()).out())
        .contains("alice has 70 (nonce 1)");
    Run tooMuch = run("transfer", "alice", "bob", "300", "--cluster", c, "--owner-key", dir.resolve("alice.key").toString());
    assertThat(tooMuch.exit()).isEqualTo(1);
    assertThat(tooMuch.out()).startsWith("refused: INSUFFICIENT_FUNDS");
    assertThat(run("transfer", "alice", "bob", "1", "--cluster", c, "--owner-key", dir.resolve("bob.key").toString()).out())
        .startsWith("refused: NOT_AUTHORIZED");
    assertThat(run("withdraw", "bob", "5", "--cluster", c).out()).contains("bob has 25");
    assertThat(run("balance", "bob", "--cluster", c).out()).startsWith("bob: balance 25, nonce 0 (proven under the signed head");
    Run nobody = run("balance", "carol", "--cluster", c);
    assertThat(nobody.exit()).isEqualTo(1);
    assertThat(nobody.out()).contains("no such account (absence proven");

    // Unsigned transfers: only over a connection with a gateway certificate from the cluster CA.
    Run issued = run("cluster", "issue-client", c, "gw-1", "--gateway");
    assertThat(issued.exit()).as(issued.out() + issued.err()).isZero();
    assertThat(issued.out()).startsWith("gateway certificate for 'gw-1'");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(cluster.resolve("clients/gw-1.key"))))
        .isEqualTo("rw-------");
    assertThat(run("cluster", "issue-client", c, "app-1").exit()).isZero();
    assertThat(run("transfer", "bob", "alice", "5", "--cluster", c, "--gateway", "gw-1").out()).contains("bob has 20 (nonce 1)");
    Run notGateway = run("transfer", "bob", "alice", "5", "--cluster", c, "--gateway", "app-1");
    assertThat(notGateway.exit()).isEqualTo(1);
    assertThat(notGateway.out()).startsWith("refused: NOT_AUTHORIZED unsigned transfers are accepted only from a connection "
        + "with a gateway certificate");
    assertThat(run("transfer", "bob", "alice", "5", "--cluster", c).err()).contains("give either --owner-key");

    // Bob's history, oldest first: opened, alice's transfer in, the withdrawal, the gateway's transfer out.
    Run history = run("history", "bob", "--cluster", c);
    assertThat(history.exit()).as(history.out() + history.err()).isZero();
    List<String> lines = history.out().lines().toList();
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0)).contains("open bob, signed by");
    assertThat(lines.get(1)).contains("transfer 30 from alice to bob (nonce 1), signed by");
    assertThat(lines.get(2)).contains("withdraw 5 from bob, signed by");
    assertThat(lines.get(3)).contains("transfer 5 from bob to alice (nonce 1), unsigned, from gateway gw-1");
    Run paged = run("history", "bob", "--cluster", c, "--limit", "2");
    assertThat(paged.out().lines().toList()).hasSize(3).last().asString().startsWith("... more from batch");
    assertThat(run("history", "carol", "--cluster", c).out()).isEqualTo("carol: no operations\n");

    // Unsigned transfers from the gateway, through bench: two clients, four accounts, five transfers each.
    Run bench = run("bench", "--cluster", c, "--clients", "2", "--accounts", "4", "--transfers", "5", "--unsigned", "gw-1");
    assertThat(bench.exit()).as(bench.out() + bench.err()).isZero();
    assertThat(bench.out()).contains("unsigned (gateway gw-1) transfers from 2 clients over 4 accounts")
        .contains("20 transfers confirmed and their receipts verified").contains("errors: none");

    // Leadership by hand: to a replica that follows now.
    String follower = run("cluster", "status", c).out().lines().filter(l -> l.contains("follows")).findFirst()
        .orElseThrow().split("\\s+")[0];
    Run moved = run("cluster", "transfer-leader", c, follower);
    assertThat(moved.exit()).as(moved.out() + moved.err()).isZero();
    assertThat(moved.out().lines().filter(l -> l.endsWith("leads")).findFirst().orElseThrow()).startsWith(follower + " ");

    // A fourth replica joins, catches up, and can lead; then one of the first three leaves.
    Run added = run("cluster", "add-replica", c);
    assertThat(added.exit()).as(added.out() + added.err()).isZero();
    assertThat(added.out()).contains("r4: started empty");
    Run toNew = run("cluster", "transfer-leader", c, "r4");
    assertThat(toNew.exit()).as(toNew.out() + toNew.err()).isZero();
    assertThat(run("balance", "bob", "--cluster", c).out()).startsWith("bob: balance 20");
    Run removed = run("cluster", "remove-replica", c, "r1");
    assertThat(removed.exit()).as(removed.out() + removed.err()).isZero();
    assertThat(removed.out()).contains("r1: removed").doesNotContain("r1   ");
    assertThat(run("deposit", "bob", "1", "--cluster", c).out()).contains("bob has 21");

    Run status = run("cluster", "status", cluster.toString());
    String leaderLine = status.out().lines().filter(l -> l.endsWith("leads")).findFirst().orElseThrow();
    String leader = leaderLine.split("\\s+")[0];
    long pid = Long.parseLong(Files.readString(cluster.resolve(leader).resolve("replica.pid")).strip());
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    String after = "";
    // A follower names the new leader once that leader's first heartbeat reaches it, which can
    // come a moment after another replica reports that it leads: wait for both.
    for (int i = 0; i < 150; i++) {
      after = run("cluster", "status", cluster.toString()).out();
      if (after.lines().anyMatch(l -> l.endsWith("leads")) && after.lines().noneMatch(l -> l.endsWith("follows " + leader))) {
        break;
      }
      Thread.sleep(100);
    }
    assertThat(after).contains(leader + "   -").contains("down");
    assertThat(after.lines().filter(l -> l.endsWith("leads")).count()).isEqualTo(1);
    assertThat(after.lines().filter(l -> l.contains("follows")).findFirst().orElseThrow()).doesNotContain("follows " + leader);
    // The survivors logged the failover as one-line events, without a stack trace per retry to the dead one.
    Thread.sleep(2000);
    for (String survivor : List.of("r2", "r3", "r4")) {
      if (survivor.equals(leader)) {
        continue;
      }
      String log = Files.readString(cluster.resolve(survivor).resolve("replica.log"));
      assertThat(log).as(survivor + "'s log").contains("leader is now").doesNotContain("\tat ");
    }

    Run down = run("cluster", "down", cluster.toString());
    assertThat(down.exit()).isZero();
    assertThat(run("cluster", "status", cluster.toString()).out().lines().allMatch(l -> l.endsWith("down"))).isTrue();
  }
}
