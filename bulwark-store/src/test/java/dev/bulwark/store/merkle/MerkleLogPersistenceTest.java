package dev.bulwark.store.merkle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.merkle.ConsistencyProof;
import dev.bulwark.core.merkle.InclusionProof;
import dev.bulwark.core.merkle.MerkleHash;
import dev.bulwark.core.merkle.MerkleLog;
import dev.bulwark.core.merkle.MerkleLogState;
import dev.bulwark.store.Backend;
import dev.bulwark.store.ObjectStore;
import dev.bulwark.store.StoreConfig;
import dev.bulwark.store.StoreSnapshot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A Merkle log written to a real store, closed and reopened, gives the same heads and proofs. */
class MerkleLogPersistenceTest {
  @TempDir
  Path dir;

  record Seen(long size, Digest root, List<InclusionProof> proofs, ConsistencyProof fromStart) {}

  @ParameterizedTest
  @EnumSource(Backend.class)
  void headsAndProofsSurviveReopening(Backend backend) {
    StoreConfig config = StoreConfig.defaults(dir).withBackend(backend);
    MerkleLog log = new MerkleLog("confirmations");
    MerkleLog other = new MerkleLog("other"); // a second log in the same tables stays apart
    SplittableRandom random = new SplittableRandom(42);
    List<Seen> seen = new ArrayList<>();
    try (ObjectStore store = ObjectStore.open(config, MerkleLog.TABLES)) {
      MerkleLogState state = log.load(store.store());
      MerkleLogState otherState = other.load(store.store());
      assertThat(state).isEqualTo(MerkleLogState.EMPTY);
      for (int batch = 0; batch < 25; batch++) {
        List<Digest> leaves = new ArrayList<>();
        int count = random.nextInt(0, 60);
        for (int i = 0; i < count; i++) {
          leaves.add(MerkleHash.leaf(Bytes.utf8("leaf " + batch + "/" + i)));
        }
        try (StoreSnapshot snapshot = store.snapshot()) {
          Transaction tx = new Transaction(snapshot);
          MerkleLog.Appended appended = log.appendAndProve(tx, state, leaves);
          otherState = other.append(tx, otherState, leaves.subList(0, count / 2));
          store.commit(tx.commit());
          state = appended.state();
          seen.add(new Seen(state.size(), state.root(), appended.proofs(),
              log.consistencyProof(store.store(), Math.min(1, state.size()), state.size())));
        }
      }
    }
    try (ObjectStore store = ObjectStore.open(config, MerkleLog.TABLES)) {
      MerkleLogState reloaded = log.load(store.store());
      assertThat(reloaded.size()).isEqualTo(seen.getLast().size());
      assertThat(reloaded.root()).isEqualTo(seen.getLast().root());
      for (Seen s : seen) {
        assertThat(log.root(store.store(), s.size())).isEqualTo(s.root());
        for (InclusionProof proof : s.proofs()) {
          assertThat(log.inclusionProof(store.store(), proof.leafIndex(), proof.treeSize())).isEqualTo(proof);
        }
        assertThat(log.consistencyProof(store.store(), Math.min(1, s.size()), s.size())).isEqualTo(s.fromStart());
      }
      for (int i = 0; i < seen.size(); i++) {
        for (int j = i; j < seen.size(); j++) {
          ConsistencyProof proof = log.consistencyProof(store.store(), seen.get(i).size(), seen.get(j).size());
          assertThat(proof.verify(seen.get(i).root(), seen.get(j).root())).isTrue();
        }
      }
      assertThat(other.load(store.store()).size()).isLessThan(reloaded.size());
    }
  }
}
