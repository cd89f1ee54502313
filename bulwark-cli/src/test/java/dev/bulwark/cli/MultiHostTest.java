package dev.bulwark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.cli.ClusterCommandTest.Run;
import dev.bulwark.cli.net.NetworkLab;
import dev.bulwark.client.BulwarkClient;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.ledger.LedgerOp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three replicas on three hosts: each 'bulwark serve' process runs in its own network namespace
 * with its own address (a {@link NetworkLab}), configured by 'cluster init --hosts'. From the
 * root namespace, as a client on another machine would, it opens accounts and sends transfers,
 * kills the leader's process and keeps transferring, restarts it, adds a replica on a fourth host
 * ('add-replica --host', then '--started') and removes one. Every transfer is confirmed with a
 * verified receipt, no transfer is lost or repeated, and every member reports the same state
 * digest on its own address. Needs root (namespaces): skipped with the reason otherwise.
 * About 45 s on a quiet machine (five replica starts, a failover, two membership changes), two
 * minutes on a loaded one, like the other cluster tests.
 */
class MultiHostTest {
  private static final int ACCOUNTS = 4;
  private static final long START_BALANCE = 1_000;

  // Kept when the test fails: the replicas' logs are in its r*/replica.log.
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  @BeforeAll
  static void needsNetworkLab() {
    Optional<String> reason = NetworkLab.unavailableReason();
    Assumptions.assumeTrue(reason.isEmpty(), () -> "skipped: " + reason.orElse(""));
  }

  @Test
  void threeHostsTransferThroughALeaderKillAndAMembershipChange() throws Exception {
    try (NetworkLab lab = NetworkLab.create(4);
        LocalCluster cluster = new LocalCluster(dir.resolve("cluster"),
            List.of("--hosts", String.join(",", lab.addresses().subList(0, 3))))) {
      String c = cluster.dir.toString();
      assertThat(cluster.settings("r2").ingressHost()).isEqualTo(lab.address(1));
      for (int i = 0; i < 3; i++) {
        start(lab, cluster, i, "r" + (i + 1), false);
      }
      Optional<List<String>> led = ClusterCommand.awaitStatus(cluster.dir, l -> l.endsWith("leads"), 900);
      assertThat(led).as("a leader within 90 s: %s", ClusterCommand.Status.report(cluster.dir)).isPresent();
      assertThat(String.join("\n", led.get())).contains(lab.address(0) + ":7201", lab.address(2) + ":7201");

      List<SigningKey> owners = new ArrayList<>();
      long[] nonces = new long[ACCOUNTS];
      try (BulwarkClient client = cluster.client("multi-host")) {
        for (int i = 0; i < ACCOUNTS; i++) {
          SigningKey owner = SigningKey.generate(new SplittableRandom(90 + i));
          owners.add(owner);
          LocalCluster.confirmed(client.submit(LocalCluster.payload(new LedgerOp.OpenAccount("a" + i, owner.publicKey()), owner)));
          LocalCluster.confirmed(client.submit(LocalCluster.payload(new LedgerOp.Deposit("a" + i, START_BALANCE,
              Bytes.utf8("deposit-" + i)), cluster.adminKey())));
        }
        long batchBefore = transfers(client, owners, nonces, 24);

        String leader = leader(cluster);
        ProcessHandle leaderProcess = ClusterCommand.running(cluster.dir.resolve(leader)).orElseThrow();
        leaderProcess.destroyForcibly();
        assertThat(leaderProcess.onExit().get(30, TimeUnit.SECONDS).isAlive()).isFalse();
        Optional<List<String>> next = ClusterCommand.awaitStatus(cluster.dir,
            l -> l.endsWith("leads") && !l.startsWith(leader + " "), 600);
        assertThat(next).as("a new leader within 60 s").isPresent();
        assertThat(String.join("\n", next.get())).contains(leader + "   -").contains("down");
        assertThat(transfers(client, owners, nonces, 24)).as("batches go on after the failover").isGreaterThan(batchBefore);

        // The old leader comes back on its host and catches up.
        start(lab, cluster, Integer.parseInt(leader.substring(1)) - 1, leader, false);
        cluster.awaitConverged(600);

        // A fourth host: prepared, started there with --join, then added; then r2 leaves.
        Run prepared = ClusterCommandTest.run("cluster", "add-replica", c, "--host", lab.address(3));
        assertThat(prepared.exit()).as(prepared.out() + prepared.err()).isZero();
        assertThat(prepared.out()).contains("r4 prepared", "--started r4");
        start(lab, cluster, 3, "r4", true);
        Run added = ClusterCommandTest.run("cluster", "add-replica", c, "--started", "r4");
        assertThat(added.exit()).as(added.out() + added.err()).isZero();
        assertThat(added.out()).contains("r4 ", lab.address(3) + ":7201");
        Run removed = ClusterCommandTest.run("cluster", "remove-replica", c, "r2");
        assertThat(removed.exit()).as(removed.out() + removed.err()).isZero();
        assertThat(cluster.ids()).containsExactly("r1", "r3", "r4");
        assertThat(ClusterCommand.running(cluster.dir.resolve("r2"))).as("r2 stopped").isEmpty();

        // Leadership to the new host; a loaded machine may miss transfer-leader's 10 s, so up to three tries.
        Run moved = ClusterCommandTest.run("cluster", "transfer-leader", c, "r4");
        for (int attempt = 1; attempt < 3 && moved.exit() != 0; attempt++) {
          moved = ClusterCommandTest.run("cluster", "transfer-leader", c, "r4");
        }
        assertThat(moved.exit()).as(moved.out() + moved.err()).isZero();
        assertThat(moved.out()).contains("r4 ", lab.address(3) + ":7201", "leads");
      }
      // A client knows the replicas its configuration names: a new one, from the updated peer lists, reaches r4.
      try (BulwarkClient client = cluster.client("multi-host-after")) {
        transfers(client, owners, nonces, 16);

        // No transfer lost or repeated: every nonce is the count of its confirmed transfers, money is conserved.
        List<String> names = new ArrayList<>();
        for (int i = 0; i < ACCOUNTS; i++) {
          names.add("a" + i);
          assertThat(LocalCluster.account(client, "a" + i).nonce()).as("a" + i + "'s nonce").isEqualTo(nonces[i]);
        }
        Map<String, Long> balances = LocalCluster.balances(client, names);
        assertThat(balances.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(ACCOUNTS * START_BALANCE);
      }
      long applied = cluster.awaitConverged(600);
      for (String id : cluster.ids()) {
        assertThat(cluster.admin(id)).startsWith("http://" + lab.address(Integer.parseInt(id.substring(1)) - 1) + ":7301");
        assertThat(cluster.status(id).orElseThrow().integer("appliedBatch")).isEqualTo(applied);
      }
    }
  }

  /** Starts replica {@code id} as a 'bulwark serve' process in lab host {@code host}'s namespace (pid file in its directory). */
  private static void start(NetworkLab lab, LocalCluster cluster, int host, String id, boolean join) throws Exception {
    ClusterCommand.startReplica(cluster.dir.resolve(id), join, argv -> lab.command(host, argv));
  }

  private static String leader(LocalCluster cluster) {
    return ClusterCommand.Status.report(cluster.dir).stream().filter(l -> l.endsWith("leads")).findFirst()
        .orElseThrow(() -> new AssertionError("no leader: " + ClusterCommand.Status.report(cluster.dir))).split("\\s+")[0];
  }

  /** {@code count} signed transfers round the accounts, each confirmed with a verified receipt; returns the last batch number. */
  private static long transfers(BulwarkClient client, List<SigningKey> owners, long[] nonces, int count) throws Exception {
    long batch = -1;
    for (int t = 0; t < count; t++) {
      int from = t % ACCOUNTS;
      Outcome outcome = client.submit(LocalCluster.payload(
          new LedgerOp.Transfer("a" + from, "a" + ((from + 1) % ACCOUNTS), 1 + t % 5, nonces[from] + 1), owners.get(from)));
      LocalCluster.confirmed(outcome);
      nonces[from]++;
      long number = ((Outcome.Confirmed) outcome).receipt().confirmation().batchNumber();
      assertThat(number).isGreaterThanOrEqualTo(batch);
      batch = number;
    }
    return batch;
  }
}
