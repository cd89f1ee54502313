package dev.bulwark.core.merkle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.testing.MemoryView;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The Merkle log against the published RFC 6962 / Certificate Transparency vectors (the
 * 8-leaf reference tree used by transparency-dev/merkle and the CT reference code), against a
 * direct transcription of RFC 9162's recursive definitions, and under tampering.
 */
class MerkleLogTest {
  static final List<Bytes> CT_LEAVES = List.of(
      Bytes.fromHex(""), Bytes.fromHex("00"), Bytes.fromHex("10"), Bytes.fromHex("2021"), Bytes.fromHex("3031"),
      Bytes.fromHex("40414243"), Bytes.fromHex("5051525354555657"),
      Bytes.fromHex("606162636465666768696a6b6c6d6e6f"));

  static final List<String> CT_ROOTS = List.of(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");

  /** A log in memory, appended leaf by leaf or in batches. */
  static final class Fixture {
    final MemoryView store = new MemoryView();
    final MerkleLog log = new MerkleLog("test");
    MerkleLogState state = MerkleLogState.EMPTY;

    void append(List<Digest> leafHashes) {
      Transaction tx = new Transaction(store);
      state = log.append(tx, state, leafHashes);
      store.apply(tx.commit());
    }
  }

  static Fixture ctTree() {
    Fixture f = new Fixture();
    for (Bytes leaf : CT_LEAVES) {
      f.append(List.of(MerkleHash.leaf(leaf)));
    }
    return f;
  }

  static List<Digest> hexes(String... hex) {
    List<Digest> out = new ArrayList<>();
    for (String h : hex) {
      out.add(Digest.fromHex(h));
    }
    return out;
  }

  @Test
  void rootsOfEverySizeMatchTheReferenceTree() {
    Fixture f = new Fixture();
    assertThat(f.state.root().hex()).isEqualTo(CT_ROOTS.get(0));
    for (int size = 1; size <= CT_LEAVES.size(); size++) {
      f.append(List.of(MerkleHash.leaf(CT_LEAVES.get(size - 1))));
      assertThat(f.state.root().hex()).as("root of %d leaves from the frontier", size).isEqualTo(CT_ROOTS.get(size));
    }
    for (int size = 0; size <= CT_LEAVES.size(); size++) {
      assertThat(f.log.root(f.store, size).hex()).as("stored root of %d leaves", size).isEqualTo(CT_ROOTS.get(size));
    }
    assertThat(f.log.load(f.store)).isEqualTo(f.state);
  }

  @Test
  void inclusionProofsMatchTheReferenceVectors() {
    Fixture f = ctTree();
    record Vector(long index, long size, List<Digest> path) {}
    List<Vector> vectors = List.of(
        new Vector(0, 1, List.of()),
        new Vector(0, 2, hexes("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7")),
        new Vector(1, 2, hexes("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")),
        new Vector(2, 3, hexes("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
        new Vector(1, 5, hexes("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")),
        new Vector(0, 8, hexes("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
        new Vector(5, 8, hexes("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")));
    for (Vector v : vectors) {
      InclusionProof proof = f.log.inclusionProof(f.store, v.index(), v.size());
      assertThat(proof.path()).as("path of leaf %d in %d", v.index(), v.size()).isEqualTo(v.path());
      Digest leafHash = MerkleHash.leaf(CT_LEAVES.get((int) v.index()));
      assertThat(proof.verify(leafHash, Digest.fromHex(CT_ROOTS.get((int) v.size())))).isTrue();
    }
  }

  @Test
  void consistencyProofsMatchTheReferenceVectors() {
    Fixture f = ctTree();
    record Vector(long first, long second, List<Digest> path) {}
    List<Vector> vectors = List.of(
        new Vector(1, 1, List.of()),
        new Vector(1, 8, hexes("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
        new Vector(2, 5, hexes("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")),
        new Vector(6, 8, hexes("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")));
    for (Vector v : vectors) {
      ConsistencyProof proof = f.log.consistencyProof(f.store, v.first(), v.second());
      assertThat(proof.path()).as("consistency %d -> %d", v.first(), v.second()).isEqualTo(v.path());
      assertThat(proof.verify(Digest.fromHex(CT_ROOTS.get((int) v.first())), Digest.fromHex(CT_ROOTS.get((int) v.second()))))
          .isTrue();
    }
  }

  // RFC 9162 section 2.1, transcribed directly over the leaf list: the reference model.

  static Digest referenceRoot(List<Digest> leaves) {
    if (leaves.isEmpty()) {
      return MerkleHash.EMPTY_ROOT;
    }
    if (leaves.size() == 1) {
      return leaves.getFirst();
    }
    int k = Integer.highestOneBit(leaves.size() - 1);
    return MerkleHash.node(referenceRoot(leaves.subList(0, k)), referenceRoot(leaves.subList(k, leaves.size())));
  }

  static List<Digest> referencePath(int m, List<Digest> leaves) {
    List<Digest> out = new ArrayList<>();
    if (leaves.size() <= 1) {
      return out;
    }
    int k = Integer.highestOneBit(leaves.size() - 1);
    if (m < k) {
      out.addAll(referencePath(m, leaves.subList(0, k)));
      out.add(referenceRoot(leaves.subList(k, leaves.size())));
    } else {
      out.addAll(referencePath(m - k, leaves.subList(k, leaves.size())));
      out.add(referenceRoot(leaves.subList(0, k)));
    }
    return out;
  }

  static List<Digest> referenceSubproof(int m, List<Digest> leaves, boolean complete) {
    List<Digest> out = new ArrayList<>();
    int n = leaves.size();
    if (m == n) {
      if (!complete) {
        out.add(referenceRoot(leaves));
      }
      return out;
    }
    int k = Integer.highestOneBit(n - 1);
    if (m <= k) {
      out.addAll(referenceSubproof(m, leaves.subList(0, k), complete));
      out.add(referenceRoot(leaves.subList(k, n)));
    } else {
      out.addAll(referenceSubproof(m - k, leaves.subList(k, n), false));
      out.add(referenceRoot(leaves.subList(0, k)));
    }
    return out;
  }

  static List<Digest> randomLeaves(SplittableRandom random, int count) {
    List<Digest> leaves = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      byte[] data = new byte[random.nextInt(0, 40)];
      random.nextBytes(data);
      leaves.add(MerkleHash.leaf(Bytes.adopt(data)));
    }
    return leaves;
  }

  /** Appends in random batch sizes, so the fast path and single appends are both covered. */
  static Fixture randomLog(SplittableRandom random, List<Digest> leaves) {
    Fixture f = new Fixture();
    int i = 0;
    while (i < leaves.size()) {
      int batch = Math.min(leaves.size() - i, random.nextInt(1, 40));
      f.append(leaves.subList(i, i + batch));
      i += batch;
    }
    return f;
  }

  @Test
  void everyInclusionAndConsistencyProofVerifiesUpTo300Leaves() {
    long seed = 0x5eed_0001L;
    SplittableRandom random = new SplittableRandom(seed);
    int maxSize = 300;
    List<Digest> leaves = randomLeaves(random, maxSize);
    Fixture f = randomLog(random, leaves);
    Digest[] roots = new Digest[maxSize + 1];
    for (int n = 0; n <= maxSize; n++) {
      roots[n] = f.log.root(f.store, n);
      if (n <= 64) {
        assertThat(roots[n]).as("seed %x: root %d", seed, n).isEqualTo(referenceRoot(leaves.subList(0, n)));
      }
    }
    for (int n = 1; n <= maxSize; n++) {
      for (int m = 0; m < n; m++) {
        InclusionProof proof = f.log.inclusionProof(f.store, m, n);
        assertThat(proof.verify(leaves.get(m), roots[n])).as("seed %x: leaf %d in %d", seed, m, n).isTrue();
        if (n <= 64) {
          assertThat(proof.path()).isEqualTo(referencePath(m, leaves.subList(0, n)));
        }
      }
    }
    for (int n = 0; n <= maxSize; n++) {
      for (int m = 0; m <= n; m++) {
        ConsistencyProof proof = f.log.consistencyProof(f.store, m, n);
        assertThat(proof.verify(roots[m], roots[n])).as("seed %x: consistency %d -> %d", seed, m, n).isTrue();
        if (n <= 64 && m > 0 && m < n) {
          assertThat(proof.path()).isEqualTo(referenceSubproof(m, leaves.subList(0, n), true));
        }
      }
    }
  }

  static Digest flipBit(Digest d, int bit) {
    byte[] b = d.unsafeArray().clone();
    b[bit / 8] ^= (byte) (1 << (bit % 8));
    return Digest.of(b);
  }

  @Test
  void anyChangedByteOfLeafProofOrRootFailsInclusion() {
    SplittableRandom random = new SplittableRandom(7);
    List<Digest> leaves = randomLeaves(random, 45);
    Fixture f = randomLog(random, leaves);
    for (int n : new int[] {1, 2, 7, 16, 33, 45}) {
      Digest root = f.log.root(f.store, n);
      for (int m = 0; m < n; m++) {
        InclusionProof proof = f.log.inclusionProof(f.store, m, n);
        for (int bit = 0; bit < 256; bit += 7) {
          assertThat(proof.verify(flipBit(leaves.get(m), bit), root)).isFalse();
          assertThat(proof.verify(leaves.get(m), flipBit(root, bit))).isFalse();
          for (int p = 0; p < proof.path().size(); p++) {
            List<Digest> path = new ArrayList<>(proof.path());
            path.set(p, flipBit(path.get(p), bit));
            assertThat(new InclusionProof(m, n, path).verify(leaves.get(m), root)).isFalse();
          }
        }
        // Wrong position, a dropped or an extra hash: all fail. (A different tree size can
        // imply the same hashing order, so the size is bound by the signed head, not here.)
        if (n > 1) {
          assertThat(new InclusionProof((m + 1) % n, n, proof.path()).verify(leaves.get(m), root))
              .as("leaf %d moved in %d", m, n).isFalse();
          assertThat(new InclusionProof(m, n, proof.path().subList(0, proof.path().size() - 1))
              .verify(leaves.get(m), root)).isFalse();
        }
        List<Digest> longer = new ArrayList<>(proof.path());
        longer.add(root);
        assertThat(new InclusionProof(m, n, longer).verify(leaves.get(m), root)).isFalse();
        assertThat(new InclusionProof(n, n, proof.path()).verify(leaves.get(m), root)).isFalse();
      }
    }
  }

  @Test
  void anyChangedByteOfProofOrRootsFailsConsistency() {
    SplittableRandom random = new SplittableRandom(11);
    List<Digest> leaves = randomLeaves(random, 40);
    Fixture f = randomLog(random, leaves);
    for (int n = 2; n <= 40; n += 3) {
      Digest second = f.log.root(f.store, n);
      for (int m = 1; m < n; m++) {
        Digest first = f.log.root(f.store, m);
        ConsistencyProof proof = f.log.consistencyProof(f.store, m, n);
        for (int bit = 0; bit < 256; bit += 13) {
          assertThat(proof.verify(flipBit(first, bit), second)).as("%d -> %d", m, n).isFalse();
          assertThat(proof.verify(first, flipBit(second, bit))).isFalse();
          for (int p = 0; p < proof.path().size(); p++) {
            List<Digest> path = new ArrayList<>(proof.path());
            path.set(p, flipBit(path.get(p), bit));
            assertThat(new ConsistencyProof(m, n, path).verify(first, second)).isFalse();
          }
        }
        assertThat(new ConsistencyProof(m, n, List.of()).verify(first, second)).as("empty %d -> %d", m, n).isFalse();
      }
    }
    // A tree is consistent with itself only under its own root, with an empty proof.
    Digest root = f.log.root(f.store, 10);
    assertThat(new ConsistencyProof(10, 10, List.of()).verify(root, root)).isTrue();
    assertThat(new ConsistencyProof(10, 10, List.of()).verify(root, f.log.root(f.store, 11))).isFalse();
    assertThat(new ConsistencyProof(10, 10, List.of(root)).verify(root, root)).isFalse();
  }

  @Test
  void batchAppendWritesEachSubtreeOnceAndMatchesSingleAppends() {
    SplittableRandom random = new SplittableRandom(3);
    List<Digest> leaves = randomLeaves(random, 1000);
    Fixture oneBatch = new Fixture();
    oneBatch.append(leaves);
    Fixture single = new Fixture();
    for (Digest leaf : leaves) {
      single.append(List.of(leaf));
    }
    assertThat(oneBatch.state).isEqualTo(single.state);
    // 1000 leaves have 1000 + 500 + 250 + ... complete subtrees: 1994 nodes, plus the size.
    assertThat(oneBatch.store.entries().size()).isEqualTo(1994 + 1);
    assertThat(oneBatch.log.load(oneBatch.store)).isEqualTo(oneBatch.state);
  }

  @Test
  void proofsMadeWhileAppendingEqualProofsReadFromTheStore() {
    SplittableRandom random = new SplittableRandom(5);
    List<Digest> leaves = randomLeaves(random, 700);
    Fixture f = new Fixture();
    int i = 0;
    while (i < leaves.size()) {
      int batch = Math.min(leaves.size() - i, random.nextInt(1, 70));
      Transaction tx = new Transaction(f.store);
      MerkleLog.Appended appended = f.log.appendAndProve(tx, f.state, leaves.subList(i, i + batch));
      f.store.apply(tx.commit());
      f.state = appended.state();
      assertThat(appended.proofs()).hasSize(batch);
      for (int j = 0; j < batch; j++) {
        InclusionProof proof = appended.proofs().get(j);
        assertThat(proof).isEqualTo(f.log.inclusionProof(f.store, i + j, f.state.size()));
        assertThat(proof.verify(leaves.get(i + j), f.state.root())).isTrue();
      }
      i += batch;
    }
  }

  @Test
  void asksBeyondTheLogAreRefused() {
    Fixture f = ctTree();
    assertThatThrownBy(() -> f.log.inclusionProof(f.store, 0, 9)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("has 8 leaves");
    assertThatThrownBy(() -> f.log.inclusionProof(f.store, 8, 8)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> f.log.consistencyProof(f.store, 5, 4)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ConsistencyProof(5, 4, List.of())).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void proofsSurviveTheirCanonicalEncoding() {
    Fixture f = ctTree();
    InclusionProof inclusion = f.log.inclusionProof(f.store, 5, 8);
    assertThat(InclusionProof.CODEC.decode(InclusionProof.CODEC.encode(inclusion))).isEqualTo(inclusion);
    ConsistencyProof consistency = f.log.consistencyProof(f.store, 6, 8);
    assertThat(ConsistencyProof.CODEC.decode(ConsistencyProof.CODEC.encode(consistency))).isEqualTo(consistency);
  }
}
