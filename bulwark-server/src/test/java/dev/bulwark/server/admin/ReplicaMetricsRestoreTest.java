package dev.bulwark.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.server.raft.SingleLedgerReplica;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot restore closes a replica's store and opens another: the metrics made before it
 * must read the new store and cache, not the closed ones.
 */
class ReplicaMetricsRestoreTest {
  @TempDir
  Path dir;

  @Test
  void storeCacheAndCollectorMetricsFollowTheStoreARestoreOpens() throws Exception {
    try (var server = SingleLedgerReplica.start(dir, "metrics", SigningKey.generate(new SplittableRandom(51)))) {
      ReplicaMetrics metrics = new ReplicaMetrics(server);
      var before = server.replica().objects();
      Path checkpoint = dir.resolve("checkpoint");
      server.replica().checkpoint(checkpoint);
      server.replica().restoreFrom(checkpoint);
      assertThat(server.replica().objects()).as("the restore reopened the store").isNotSameAs(before);

      List<String> lines = metrics.scrape().lines()
          .filter(l -> l.startsWith("bulwark_store_") || l.startsWith("bulwark_cache_") || l.startsWith("bulwark_state_"))
          .toList();
      assertThat(lines).anyMatch(l -> l.startsWith("bulwark_store_estimate_num_keys "))
          .anyMatch(l -> l.startsWith("bulwark_cache_hits_total "))
          .anyMatch(l -> l.startsWith("bulwark_state_collector_failed 0.0"));
      assertThat(lines).as("no metric reads the closed store").noneMatch(l -> l.endsWith("NaN"));
    }
  }
}
