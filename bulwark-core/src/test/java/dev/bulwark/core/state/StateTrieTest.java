package dev.bulwark.core.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The state trie against an in-memory map: random batches of puts and deletes, every retained
 * root readable, proofs of presence and absence that verify and break under tampering, roots
 * that depend only on the contents, and the created/stale sets that garbage collection uses.
 */
class StateTrieTest {
  /**
   * Nodes by (version, depth, path), as the store holds them: a load checks the hash, and no
   * reference is ever written twice. Roots are found by hash through the latest version that
   * wrote one.
   */
  static final class Nodes implements NodeLoader, StateTrie.NodeSink {
    record Address(long version, int depth, Bytes path) {
      static Address of(NodeRef ref) {
        return new Address(ref.version(), ref.depth(), ref.path());
      }
    }

    final Map<Address, StateNode> stored = new HashMap<>();
    final Map<Digest, Long> roots = new HashMap<>();
    final int linkDepth;
    int loads;

    Nodes() {
      this(0);
    }

    Nodes(int linkDepth) {
      this.linkDepth = linkDepth;
    }

    @Override public int linkDepth() {
      return linkDepth;
    }

    @Override public StateNode load(NodeRef ref) {
      loads++;
      StateNode node = stored.get(Address.of(ref));
      if (node == null) {
        throw new IllegalStateException("missing node " + ref);
      }
      assertThat(node.hash()).as("node at %s", ref).isEqualTo(ref.hash());
      return node;
    }

    @Override public NodeRef root(Digest root) {
      return NodeRef.root(root, roots.get(root));
    }

    @Override public void write(NodeRef ref, StateNode node) {
      assertThat(node.hash()).isEqualTo(ref.hash());
      assertThat(stored.put(Address.of(ref), node)).as("written twice: %s", ref).isNull();
      if (ref.depth() == 0) {
        roots.merge(ref.hash(), ref.version(), Math::max);
      }
    }

    Set<NodeRef> reachable(Digest root) {
      Set<NodeRef> seen = new HashSet<>();
      if (root.equals(StateTrie.EMPTY_ROOT)) {
        return seen;
      }
      Deque<NodeRef> todo = new ArrayDeque<>(List.of(root(root)));
      while (!todo.isEmpty()) {
        NodeRef ref = todo.pop();
        if (seen.add(ref) && load(ref) instanceof StateNode.Internal internal) {
          for (int n = 0; n < 16; n++) {
            if (internal.hasChild(n)) {
              todo.push(new NodeRef(internal.child(n), internal.childVersion(n), ref.depth() + 1,
                  NodeRef.childPath(ref.path(), ref.depth(), n)));
            }
          }
        }
      }
      return seen;
    }
  }

  static Bytes key(int i) {
    return Bytes.utf8("account-" + i);
  }

  static Bytes value(SplittableRandom random) {
    byte[] v = new byte[random.nextInt(0, 24)];
    random.nextBytes(v);
    return Bytes.adopt(v);
  }

  static Digest fromScratch(TreeMap<Bytes, Bytes> model) {
    Nodes fresh = new Nodes();
    List<StateUpdate> all = new ArrayList<>();
    model.forEach((k, v) -> all.add(StateUpdate.put(k, v)));
    Collections.shuffle(all, new java.util.Random(1));
    return StateTrie.update(fresh, StateTrie.EMPTY_ROOT, 0, all, fresh).root();
  }

  @Test
  void randomBatchesMatchTheModelAndEveryRetainedRootStaysReadable() {
    for (long seed : new long[] {1, 2, 3, 0xB01A_4CL}) {
      SplittableRandom random = new SplittableRandom(seed);
      Nodes nodes = new Nodes((int) (seed % 3)); // upper levels linked in memory to depth 0, 1 or 2
      TreeMap<Bytes, Bytes> model = new TreeMap<>();
      Digest root = StateTrie.EMPTY_ROOT;
      List<Digest> roots = new ArrayList<>();
      List<TreeMap<Bytes, Bytes>> models = new ArrayList<>();
      int keySpace = random.nextInt(20, 400);
      for (int batch = 0; batch < 40; batch++) {
        List<StateUpdate> updates = new ArrayList<>();
        int size = random.nextInt(0, 60);
        for (int u = 0; u < size; u++) {
          Bytes k = key(random.nextInt(keySpace));
          if (random.nextInt(4) == 0) {
            updates.add(StateUpdate.delete(k));
            model.remove(k);
          } else {
            Bytes v = value(random);
            updates.add(StateUpdate.put(k, v));
            model.put(k, v);
          }
        }
        Set<NodeRef> before = nodes.reachable(root);
        StateTrie.Result result = StateTrie.update(nodes, root, batch, updates, nodes);
        Set<NodeRef> after = nodes.reachable(result.root());
        // What garbage collection relies on.
        assertThat(after).as("seed %d batch %d: created nodes are in the new tree", seed, batch)
            .containsAll(result.created());
        for (NodeRef s : result.stale()) {
          assertThat(after).as("seed %d batch %d: a stale node is not in the new tree", seed, batch).doesNotContain(s);
          assertThat(before).contains(s);
        }
        Set<NodeRef> gone = new HashSet<>(before);
        gone.removeAll(after);
        assertThat(new HashSet<>(result.stale())).as("seed %d batch %d: every dropped node is stale", seed, batch)
            .isEqualTo(gone);
        Set<NodeRef> appeared = new HashSet<>(after);
        appeared.removeAll(before);
        assertThat(new HashSet<>(result.created())).as("seed %d batch %d: exactly the new nodes are written", seed, batch)
            .isEqualTo(appeared).hasSameSizeAs(result.created());

        root = result.root();
        roots.add(root);
        models.add(new TreeMap<>(model));
        assertThat(root).as("seed %d batch %d: the root depends only on the contents", seed, batch)
            .isEqualTo(fromScratch(model));
      }
      // Every root ever returned still answers as its own model did.
      for (int r = 0; r < roots.size(); r++) {
        TreeMap<Bytes, Bytes> m = models.get(r);
        for (int i = 0; i < keySpace + 5; i++) {
          Bytes k = key(i);
          Optional<Bytes> expected = Optional.ofNullable(m.get(k));
          assertThat(StateTrie.get(nodes, roots.get(r), k)).as("seed %d root %d key %d", seed, r, i).isEqualTo(expected);
          StateProof proof = StateTrie.prove(nodes, roots.get(r), k);
          assertThat(proof.verify(roots.get(r), k, expected)).isTrue();
          assertThat(proof.verify(roots.get(r), k, expected.isPresent() ? Optional.empty() : Optional.of(Bytes.utf8("x"))))
              .isFalse();
        }
      }
    }
  }

  static StateTrie.Result fill(Nodes nodes, int count) {
    List<StateUpdate> updates = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      updates.add(StateUpdate.put(key(i), Bytes.utf8("balance " + i)));
    }
    return StateTrie.update(nodes, StateTrie.EMPTY_ROOT, 0, updates, nodes);
  }

  @Test
  void changingAnyByteOfAPresenceProofKeyValueOrRootFailsVerification() {
    Nodes nodes = new Nodes();
    Digest root = fill(nodes, 3000).root();
    for (int i = 0; i < 3000; i += 397) {
      Bytes k = key(i);
      Bytes v = Bytes.utf8("balance " + i);
      StateProof proof = StateTrie.prove(nodes, root, k);
      assertThat(proof.verify(root, k, Optional.of(v))).isTrue();
      assertThat(proof.nodes().size()).isBetween(2, 6);
      for (int n = 0; n < proof.nodes().size(); n++) {
        byte[] node = proof.nodes().get(n).toByteArray();
        for (int b = 0; b < node.length; b++) {
          byte[] mutated = node.clone();
          mutated[b] ^= 0x01;
          List<Bytes> tampered = new ArrayList<>(proof.nodes());
          tampered.set(n, Bytes.adopt(mutated));
          assertThat(new StateProof(tampered).verify(root, k, Optional.of(v))).isFalse();
        }
      }
      for (int b = 0; b < k.length(); b++) {
        byte[] mk = k.toByteArray();
        mk[b] ^= 0x01;
        assertThat(proof.verify(root, Bytes.adopt(mk), Optional.of(v))).isFalse();
      }
      for (int b = 0; b < v.length(); b++) {
        byte[] mv = v.toByteArray();
        mv[b] ^= 0x01;
        assertThat(proof.verify(root, k, Optional.of(Bytes.adopt(mv)))).isFalse();
      }
      for (int b = 0; b < Digest.LENGTH; b++) {
        byte[] mr = root.unsafeArray().clone();
        mr[b] ^= 0x01;
        assertThat(proof.verify(Digest.of(mr), k, Optional.of(v))).isFalse();
      }
      // Dropping the last node, or adding one, breaks it too.
      assertThat(new StateProof(proof.nodes().subList(0, proof.nodes().size() - 1)).verify(root, k, Optional.of(v))).isFalse();
    }
  }

  @Test
  void absenceProofsBreakUnderTamperingAndCannotHideAPresentKey() {
    Nodes nodes = new Nodes();
    Digest root = fill(nodes, 2000).root();
    for (int i = 5000; i < 5040; i++) {
      Bytes k = key(i);
      StateProof proof = StateTrie.prove(nodes, root, k);
      assertThat(proof.evaluate(root, k)).isEqualTo(new StateProof.Outcome.Absent());
      for (int n = 0; n < proof.nodes().size(); n++) {
        byte[] node = proof.nodes().get(n).toByteArray();
        for (int b = 0; b < node.length; b += 3) {
          byte[] mutated = node.clone();
          mutated[b] ^= 0x40;
          List<Bytes> tampered = new ArrayList<>(proof.nodes());
          tampered.set(n, Bytes.adopt(mutated));
          assertThat(new StateProof(tampered).verify(root, k, Optional.empty())).isFalse();
        }
      }
      // The absence proof of one key is never a valid absence proof of a present key.
      for (int present = 0; present < 2000; present += 101) {
        assertThat(proof.verify(root, key(present), Optional.empty())).isFalse();
      }
    }
  }

  @Test
  void theEmptyStateHasAFixedRootAndAnEmptyProof() {
    Nodes nodes = new Nodes();
    StateProof proof = StateTrie.prove(nodes, StateTrie.EMPTY_ROOT, key(1));
    assertThat(proof.nodes()).isEmpty();
    assertThat(proof.verify(StateTrie.EMPTY_ROOT, key(1), Optional.empty())).isTrue();
    assertThat(proof.verify(Digest.sha256(Bytes.utf8("x")), key(1), Optional.empty())).isFalse();
    // Deleting everything returns to the empty root.
    Digest root = fill(nodes, 50).root();
    List<StateUpdate> deletes = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      deletes.add(StateUpdate.delete(key(i)));
    }
    StateTrie.Result result = StateTrie.update(nodes, root, 1, deletes, nodes);
    assertThat(result.root()).isEqualTo(StateTrie.EMPTY_ROOT);
    assertThat(result.stale()).hasSize(nodes.reachable(root).size());
  }

  @Test
  void eachDirtyNodeIsWrittenOnceAndUnchangedValuesWriteNothing() {
    Nodes nodes = new Nodes();
    StateTrie.Result full = fill(nodes, 4096);
    // 4096 leaves plus the internal nodes above them, each written once.
    assertThat(full.created()).hasSize(nodes.reachable(full.root()).size());
    assertThat(new HashSet<>(full.created())).hasSameSizeAs(full.created());
    List<StateUpdate> same = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      same.add(StateUpdate.put(key(i), Bytes.utf8("balance " + i)));
    }
    StateTrie.Result unchanged = StateTrie.update(nodes, full.root(), 1, same, nodes);
    assertThat(unchanged.root()).isEqualTo(full.root());
    assertThat(unchanged.created()).isEmpty();
    assertThat(unchanged.stale()).isEmpty();
    // The last update of a key in a batch wins.
    List<StateUpdate> twice = List.of(StateUpdate.put(key(1), Bytes.utf8("a")), StateUpdate.put(key(1), Bytes.utf8("b")));
    Digest root = StateTrie.update(nodes, full.root(), 2, twice, nodes).root();
    assertThat(StateTrie.get(nodes, root, key(1))).contains(Bytes.utf8("b"));
  }

  @Test
  void deletingTheStaleNodesOfReleasedVersionsKeepsEveryRetainedTreeWhole() {
    // The store's collection rule on the pure trie: the stale nodes of version s go once tree
    // s-1 is released. With few values per key, the same leaves and subtrees come back often.
    SplittableRandom random = new SplittableRandom(42);
    Nodes nodes = new Nodes();
    int retained = 3;
    List<Digest> roots = new ArrayList<>();
    List<List<NodeRef>> staleAt = new ArrayList<>();
    Digest root = StateTrie.EMPTY_ROOT;
    for (int version = 0; version < 120; version++) {
      List<StateUpdate> updates = new ArrayList<>();
      for (int u = random.nextInt(0, 30); u > 0; u--) {
        Bytes k = key(random.nextInt(80));
        updates.add(random.nextInt(4) == 0 ? StateUpdate.delete(k) : StateUpdate.put(k, Bytes.utf8("v" + random.nextInt(2))));
      }
      StateTrie.Result result = StateTrie.update(nodes, root, version, updates, nodes);
      root = result.root();
      roots.add(root);
      staleAt.add(result.stale());
      int oldest = Math.max(0, version - retained + 1);
      // Collect every version s whose tree s-1 is released (s <= oldest).
      for (int s = 1; s <= oldest; s++) {
        for (NodeRef dead : staleAt.get(s)) {
          nodes.stored.remove(Nodes.Address.of(dead));
        }
        staleAt.set(s, List.of());
      }
      Set<Nodes.Address> live = new HashSet<>();
      for (int v = oldest; v <= version; v++) {
        for (NodeRef ref : nodes.reachable(roots.get(v))) { // throws if a reachable node was deleted
          live.add(Nodes.Address.of(ref));
        }
      }
      assertThat(nodes.stored.keySet()).as("version %d: exactly the retained trees are stored", version).isEqualTo(live);
    }
  }

  @Test
  void aLeafThatMovesUpIsWrittenAtItsNewPlaceAndItsOldPlaceIsStale() {
    Nodes nodes = new Nodes();
    // Two keys whose hashes share a first nibble sit below an internal node at depth 1.
    Bytes a = key(0);
    Bytes b = null;
    for (int i = 1; b == null; i++) {
      if (StateTrie.nibble(Digest.sha256(key(i)), 0) == StateTrie.nibble(Digest.sha256(a), 0)) {
        b = key(i);
      }
    }
    Digest root = StateTrie.update(nodes, StateTrie.EMPTY_ROOT, 0, List.of(StateUpdate.put(a, Bytes.utf8("a")),
        StateUpdate.put(b, Bytes.utf8("b"))), nodes).root();
    StateTrie.Result result = StateTrie.update(nodes, root, 1, List.of(StateUpdate.delete(b)), nodes);
    // a's leaf is now the root itself: one new node, written once, at depth 0.
    assertThat(result.created()).hasSize(1);
    assertThat(result.created().getFirst().depth()).isZero();
    assertThat(result.root()).isEqualTo(StateNode.Leaf.of(a, Bytes.utf8("a")).hash());
    assertThat(result.stale()).extracting(NodeRef::depth).containsExactlyInAnyOrder(0, 1, 2, 2);
    assertThat(StateTrie.get(nodes, result.root(), a)).contains(Bytes.utf8("a"));
  }

  static long[] versionsOf(StateNode.Internal node) {
    long[] out = new long[node.childCount()];
    for (int r = 0; r < out.length; r++) {
      out[r] = node.childVersionAt(r);
    }
    return out;
  }

  @Test
  void linkedUpperLevelsAreWalkedWithoutTheLoader() {
    Nodes plain = new Nodes(0);
    Nodes linked = new Nodes(2);
    Digest root = fill(plain, 3000).root();
    assertThat(fill(linked, 3000).root()).isEqualTo(root);
    List<StateUpdate> batch = new ArrayList<>();
    for (int i = 0; i < 3000; i += 10) {
      batch.add(StateUpdate.put(key(i), Bytes.utf8("new " + i)));
    }
    plain.loads = 0;
    linked.loads = 0;
    Digest next = StateTrie.update(plain, root, 1, batch, plain).root();
    assertThat(StateTrie.update(linked, root, 1, batch, linked).root()).isEqualTo(next);
    // The tree built from scratch links depths 1 and 2 already: only the root and deeper nodes are loaded.
    assertThat(linked.loads).isLessThan(plain.loads - 16);
    // A loader whose nodes carry no links (as if just read from a store) links the upper levels on request.
    Nodes reread = new Nodes(2);
    linked.stored.forEach((address, node) -> reread.stored.put(address, node instanceof StateNode.Internal in
        ? StateNode.Internal.restore(in.encoding(), versionsOf(in)) : node));
    reread.roots.putAll(linked.roots);
    long[] loaded = new long[1];
    assertThat(StateTrie.linkUpperLevels(reread, next, loaded).hash()).isEqualTo(next);
    assertThat(loaded[0]).isEqualTo(1 + 16 + 256); // 3000 keys fill the first two levels
    assertThat(StateTrie.get(reread, next, key(7))).contains(Bytes.utf8("balance 7"));
    for (int i = 0; i < 3000; i += 7) {
      Optional<Bytes> expected = Optional.of(Bytes.utf8((i % 10 == 0 ? "new " : "balance ") + i));
      assertThat(StateTrie.get(linked, next, key(i))).isEqualTo(expected);
      assertThat(StateTrie.prove(linked, next, key(i)).verify(next, key(i), expected)).isTrue();
    }
  }

  @Test
  void malformedNodesAreRejected() {
    assertThatThrownBy(() -> StateNode.decode(Bytes.fromHex("02"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StateNode.decode(Bytes.fromHex("010000"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StateNode.decode(Bytes.fromHex("010001" + "00".repeat(31)))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StateNode.decode(Bytes.fromHex("00016101"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StateNode.decode(Bytes.fromHex("0001610162ff"))).isInstanceOf(IllegalArgumentException.class);
    StateNode.Leaf leaf = StateNode.Leaf.of(Bytes.utf8("a"), Bytes.utf8("b"));
    assertThat(StateNode.decode(leaf.encoding())).isEqualTo(leaf);
  }

  @Test
  void anInternalNodesStoredFormIsItsEncodingThenItsChildVersions() {
    Digest[] children = new Digest[16];
    children[2] = Digest.sha256(Bytes.utf8("two"));
    children[9] = Digest.sha256(Bytes.utf8("nine"));
    children[15] = Digest.sha256(Bytes.utf8("fifteen"));
    StateNode.Internal plain = StateNode.Internal.of(children);
    long[] versions = {0, 300, 1L << 40};
    StateNode.Internal node = StateNode.Internal.restore(plain.encoding(), versions);
    Bytes stored = node.storedForm();
    // 3 + 3 * 32 bytes of encoding, then varints of 1, 2 and 6 bytes.
    assertThat(stored.length()).isEqualTo(plain.encoding().length() + 1 + 2 + 6);
    assertThat(stored.slice(0, plain.encoding().length())).isEqualTo(plain.encoding());
    StateNode.Internal back = StateNode.Internal.fromStoredForm(stored);
    assertThat(back.encoding()).isEqualTo(plain.encoding());
    assertThat(back.hash()).isEqualTo(plain.hash());
    assertThat(back).isEqualTo(plain);
    for (int n = 0; n < 16; n++) {
      assertThat(back.child(n)).isEqualTo(children[n]);
    }
    assertThat(back.childVersion(2)).isZero();
    assertThat(back.childVersion(9)).isEqualTo(300);
    assertThat(back.childVersion(15)).isEqualTo(1L << 40);
    assertThat(plain.hasChildVersions()).isFalse();
    assertThat(plain.childVersionAt(1)).isEqualTo(NodeRef.UNKNOWN_VERSION);
    assertThatThrownBy(plain::storedForm).isInstanceOf(IllegalStateException.class);

    String hex = stored.hex();
    // No versions, a version cut short, a byte after the versions, a version not in shortest form.
    assertThatThrownBy(() -> StateNode.Internal.fromStoredForm(plain.encoding())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StateNode.Internal.fromStoredForm(Bytes.fromHex(hex.substring(0, hex.length() - 2))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StateNode.Internal.fromStoredForm(Bytes.fromHex(hex + "00"))).isInstanceOf(IllegalArgumentException.class);
    String encodingHex = plain.encoding().hex();
    assertThatThrownBy(() -> StateNode.Internal.fromStoredForm(Bytes.fromHex(encodingHex + "8000" + "01" + "01")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(StateNode.Internal.fromStoredForm(Bytes.fromHex(encodingHex + "00" + "01" + "01")).childVersion(15)).isEqualTo(1);
  }
}
