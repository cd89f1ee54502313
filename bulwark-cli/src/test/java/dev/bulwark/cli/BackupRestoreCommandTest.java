package dev.bulwark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.client.BulwarkClient;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.json.Json;
import dev.bulwark.core.json.JsonReader;
import dev.bulwark.core.receipt.AuditResult;
import dev.bulwark.core.receipt.Auditor;
import dev.bulwark.core.receipt.ReceiptJson;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.server.raft.Backups;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 'bulwark backup' from a running replica process, then every replica's data directory
 * deleted and 'bulwark restore' into each: the cluster comes back with every transfer confirmed
 * before the backup, the same signed heads up to it, and new heads that chain from them.
 */
class BackupRestoreCommandTest {
  @TempDir
  Path dir;

  @Test
  void aClusterWhoseDataWasDeletedComesBackFromABackup() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir.resolve("cluster"))) {
      cluster.up();
      SigningKey alice = SigningKey.generate(new SplittableRandom(1));
      SigningKey bob = SigningKey.generate(new SplittableRandom(2));
      List<String> names = List.of("alice", "bob");
      Map<String, Long> atBackup;
      Path backup = dir.resolve("backup.zip");
      try (BulwarkClient client = cluster.client("backup-test")) {
        LocalCluster.confirmed(client.submit(LocalCluster.payload(new LedgerOp.OpenAccount("alice", alice.publicKey()), alice)));
        LocalCluster.confirmed(client.submit(LocalCluster.payload(new LedgerOp.OpenAccount("bob", bob.publicKey()), bob)));
        LocalCluster.confirmed(client.submit(LocalCluster.payload(new LedgerOp.Deposit("alice", 1_000,
            dev.bulwark.core.Bytes.utf8("d1")), cluster.adminKey())));
        for (int n = 1; n <= 10; n++) {
          LocalCluster.confirmed(client.submit(LocalCluster.payload(new LedgerOp.Transfer("alice", "bob", n, n), alice)));
        }
        cluster.awaitConverged(100);
        atBackup = LocalCluster.balances(client, names);
        assertThat(atBackup).isEqualTo(Map.of("alice", 1_000L - 55, "bob", 55L));

        ClusterCommandTest.Run taken = ClusterCommandTest.run("backup", "--replica", cluster.admin("r2"), "--out",
            backup.toString(), "--operator-key", cluster.dir.resolve("operator.pub").toString());
        assertThat(taken.exit()).as(taken.out() + taken.err()).isZero();
        assertThat(taken.out()).contains("backup of replica r2 of cluster 'bulwark'", "verified with operator key");
        ClusterCommandTest.Run again = ClusterCommandTest.run("backup", "--replica", cluster.admin("r2"), "--out",
            backup.toString(), "--operator-key", cluster.dir.resolve("operator.pub").toString());
        assertThat(again.err()).contains("already exists");
        // No temporary checkpoint is left behind in the replica's data directory.
        try (var left = Files.list(cluster.dir.resolve("r2/data"))) {
          assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("backup-"));
        }
        // Transfers after the backup: lost with the data directories.
        for (int n = 11; n <= 13; n++) {
          LocalCluster.confirmed(client.submit(LocalCluster.payload(new LedgerOp.Transfer("alice", "bob", 1, n), alice)));
        }
      }
      Backups.Manifest manifest = Backups.verify(backup, cluster.operatorKey());
      List<SignedBatchHead> seenBefore = cluster.heads("r1", manifest.batchNumber());
      assertThat(seenBefore.getLast()).isEqualTo(manifest.head());

      cluster.down();
      for (String id : cluster.ids()) {
        try (var paths = Files.walk(cluster.dir.resolve(id).resolve("data"))) {
          for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
            Files.delete(p);
          }
        }
        ClusterCommandTest.Run restored = ClusterCommandTest.run("restore", backup.toString(), "--into",
            cluster.dir.resolve(id).toString());
        assertThat(restored.exit()).as(restored.out() + restored.err()).isZero();
        assertThat(restored.out()).contains("restored replica " + id, "batch " + manifest.batchNumber());
      }
      ClusterCommandTest.Run twice = ClusterCommandTest.run("restore", backup.toString(), "--into",
          cluster.dir.resolve("r1").toString());
      assertThat(twice.exit()).isEqualTo(2);
      assertThat(twice.err()).contains("already holds data");

      cluster.up();
      assertThat(cluster.awaitConverged(300)).isEqualTo(manifest.batchNumber());
      for (String id : cluster.ids()) {
        assertThat(cluster.heads(id, manifest.batchNumber())).as("heads on %s", id).isEqualTo(seenBefore);
      }
      try (BulwarkClient client = cluster.client("after-restore")) {
        assertThat(LocalCluster.balances(client, names)).isEqualTo(atBackup);
        assertThat(LocalCluster.account(client, "alice").nonce()).isEqualTo(10);
        LocalCluster.confirmed(client.submit(LocalCluster.payload(new LedgerOp.Transfer("alice", "bob", 5, 11), alice)));
        assertThat(LocalCluster.balances(client, names)).isEqualTo(Map.of("alice", 1_000L - 60, "bob", 60L));
      }
      cluster.awaitConverged(100);
      // The heads after the restore extend the log the heads before it signed.
      SignedBatchHead latest = ReceiptJson.readHead(cluster.get("r1", "/heads/latest").orElseThrow());
      assertThat(latest.head().batchNumber()).isGreaterThan(manifest.batchNumber());
      for (SignedBatchHead old : seenBefore) {
        if (old.head().logSize() == 0) {
          continue;
        }
        String proof = cluster.get("r1", "/proofs/consistency?from=" + old.head().logSize() + "&to="
            + latest.head().logSize()).orElseThrow();
        assertThat(Auditor.audit(old, latest, ReceiptJson.readConsistencyProof(proof), cluster.operatorKey()))
            .as("batch %d", old.head().batchNumber()).isInstanceOf(AuditResult.Consistent.class);
      }
      JsonReader status = JsonReader.of("status", Json.parse(cluster.get("r1", "/status").orElseThrow()));
      assertThat(status.integer("appliedBatch")).isGreaterThan(manifest.batchNumber());
    }
  }
}
