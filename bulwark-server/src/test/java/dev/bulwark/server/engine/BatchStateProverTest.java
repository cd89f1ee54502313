package dev.bulwark.server.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.state.NodeLoader;
import dev.bulwark.core.state.NodeRef;
import dev.bulwark.core.state.StateEntryProof;
import dev.bulwark.core.state.StateNode;
import dev.bulwark.core.state.StateTrie;
import dev.bulwark.core.state.StateUpdate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Proofs of a batch's keys made in one walk are exactly the per-key proofs, and check out. */
class BatchStateProverTest {
  /** Nodes by hash, as a content-addressed store would hold them. */
  private static final class Nodes implements NodeLoader, StateTrie.NodeSink {
    final Map<Digest, StateNode> byHash = new HashMap<>();
    int loads;

    @Override public StateNode load(NodeRef ref) {
      loads++;
      StateNode node = byHash.get(ref.hash());
      if (node == null) {
        throw new IllegalStateException("missing node " + ref);
      }
      return node;
    }

    @Override public void write(NodeRef ref, StateNode node) {
      byHash.put(ref.hash(), node);
    }
  }

  private static Bytes key(int i) {
    return Bytes.utf8("account/" + i);
  }

  @Test
  void everyKeyGetsTheProofAWalkOfItsOwnWouldMakeWithFewerLoads() {
    Random random = new Random(42);
    Nodes nodes = new Nodes();
    List<StateUpdate> initial = new ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      initial.add(StateUpdate.put(key(i), Bytes.utf8("v" + i)));
    }
    Digest root = StateTrie.update(nodes, StateTrie.EMPTY_ROOT, 0, initial, nodes).root();
    // A batch: some keys changed, some deleted, some never there.
    Map<Bytes, Optional<Bytes>> written = new HashMap<>();
    List<StateUpdate> batch = new ArrayList<>();
    for (int n = 0; n < 200; n++) {
      Bytes k = key(random.nextInt(3_400));
      Optional<Bytes> v = random.nextInt(5) == 0 ? Optional.empty() : Optional.of(Bytes.utf8("w" + n));
      batch.add(new StateUpdate(k, v));
      written.put(k, v);
    }
    Digest after = StateTrie.update(nodes, root, 1, batch, nodes).root();
    List<Bytes> keys = new ArrayList<>(written.keySet());
    keys.add(Bytes.utf8("never written"));
    keys.add(key(7)); // unchanged by the batch unless drawn

    nodes.loads = 0;
    Map<Bytes, StateEntryProof> proven = BatchStateProver.prove(nodes, after, keys, written);
    int batchLoads = nodes.loads;

    nodes.loads = 0;
    assertThat(proven).hasSize(keys.size());
    for (Bytes k : keys) {
      StateEntryProof alone = StateEntryProof.of(nodes, after, k);
      assertThat(proven.get(k)).as("key %s", k).isEqualTo(alone);
      assertThat(proven.get(k).verify(after)).isTrue();
      if (written.containsKey(k)) {
        assertThat(proven.get(k).value()).isEqualTo(written.get(k));
      }
    }
    assertThat(proven.get(Bytes.utf8("never written")).value()).isEmpty();
    assertThat(batchLoads).as("the upper levels are loaded once for all keys").isLessThan(nodes.loads / 2);
  }

  @Test
  void aTrieThatDoesNotHoldWhatTheBatchWroteIsABug() {
    Nodes nodes = new Nodes();
    Digest root = StateTrie.update(nodes, StateTrie.EMPTY_ROOT, 0,
        List.of(StateUpdate.put(key(1), Bytes.utf8("one")), StateUpdate.put(key(2), Bytes.utf8("two"))), nodes).root();
    assertThatThrownBy(() -> BatchStateProver.prove(nodes, root, List.of(key(1)),
        Map.of(key(1), Optional.of(Bytes.utf8("uno")))))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("does not hold what the batch wrote");
    assertThatThrownBy(() -> BatchStateProver.prove(nodes, root, List.of(key(2)), Map.of(key(2), Optional.empty())))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void underTheEmptyRootEveryKeyIsProvenAbsent() {
    Map<Bytes, StateEntryProof> proven = BatchStateProver.prove(new Nodes(), StateTrie.EMPTY_ROOT,
        List.of(key(1), key(2)), Map.of(key(1), Optional.empty()));
    assertThat(proven.values()).allSatisfy(p -> {
      assertThat(p.value()).isEmpty();
      assertThat(p.verify(StateTrie.EMPTY_ROOT)).isTrue();
    });
  }
}
