package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.receipt.BatchHead;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.server.engine.BatchEntry;
import dev.bulwark.server.engine.NotCommittedException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch from a sequencer of an earlier term is refused before it reaches the log: a closing
 * sequencer must not append after a batch that the new term may have cut (found by the
 * pipeline simulator's review; every replica would refuse to apply such a batch).
 */
class StaleSequencerTest {
  @TempDir
  Path dir;

  static final SigningKey OPERATOR = SigningKey.generate(new SplittableRandom(41));

  @Test
  void aBatchFromAnEarlierTermsSequencerIsNotCommittedAndTheLogStaysUsable() throws Exception {
    try (var replica = SingleLedgerReplica.start(dir, "stale", OPERATOR)) {
      for (int i = 0; i < 200 && !(replica.isLeader() && replica.status().sequencing()); i++) {
        Thread.sleep(50);
      }
      assertThat(replica.isLeader()).as("a replica of one leads").isTrue();
      long term = replica.currentTerm();
      long next = replica.replica().applied().batchNumber() + 1;
      BatchHead head = new BatchHead("stale", next, 0, BatchHead.ZERO, BatchHead.ZERO, BatchHead.ZERO, 1);
      BatchEntry entry = new BatchEntry(next, WriteSet.builder().build(), SignedBatchHead.sign(head, OPERATOR));

      assertThatThrownBy(() -> replica.replicatorForTerm(term - 1).replicate(entry).get(30, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause().isInstanceOf(NotCommittedException.class)
          .hasMessageContaining("sequencer of term " + (term - 1)).hasMessageContaining("current term " + term);
      assertThat(replica.replica().applied().batchNumber()).as("nothing was applied").isEqualTo(next - 1);
      assertThat(replica.status().role()).as("the refusal does not cost the leadership").isEqualTo("LEADER");
    }
  }
}
