package dev.bulwark.bench;

import dev.bulwark.core.Digest;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.merkle.InclusionProof;
import dev.bulwark.core.merkle.MerkleLog;
import dev.bulwark.core.merkle.MerkleLogState;
import dev.bulwark.store.Durability;
import dev.bulwark.store.KeyValueStore;
import dev.bulwark.store.ObjectStore;
import dev.bulwark.store.SchemaConflictException;
import dev.bulwark.store.StoreConfig;
import dev.bulwark.store.StoreSnapshot;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Inclusion proofs in a {@link MerkleLog} of {@value #LEAVES} leaves stored in RocksDB, for a
 * random leaf each call, against the whole tree:
 *
 * <ul>
 *   <li>{@code proveFromSnapshot}: {@code MerkleLog.inclusionProof(snapshot, index, size)}
 *       through a {@link StoreSnapshot} held open for the trial: the size check (one point
 *       read), then about 29 stored subtree hashes (point reads, key encoding, value decoding)
 *       and, for the tree's incomplete right edge, about 6 node hashes;
 *   <li>{@code proveFromStore}: the same reading the store's latest state instead of a
 *       snapshot;
 *   <li>{@code verify}: {@code InclusionProof.verify(leafHash, root)} of such a proof (one
 *       SHA-256 node hash per path entry, about 24 at this size), from a pool of
 *       {@value #PROOF_POOL} proofs of random leaves made in set-up.
 * </ul>
 *
 * <p><b>The database is built once and cached</b> in {@value #DEFAULT_DIRECTORY} (override
 * with {@code -jvmArgsAppend -Dbulwark.bench.merkleDir=...}), because building it takes a
 * minute or more: about 20 million subtree hashes written, in batches of
 * {@value #BUILD_BATCH} leaves written {@code NO_SYNC}, leaf {@code i} being the 8-byte big-endian {@code i} (see
 * {@link MerkleFixture#leafHash}). A later trial reuses it if the log's stored size is
 * {@value #LEAVES}; a smaller size (an interrupted build) is resumed from where it stopped,
 * since each batch wrote its nodes and the new size atomically; a store with other or
 * conflicting tables (an older table layout) is deleted and rebuilt. Delete the directory
 * (about 0.9 GB) to reclaim the space or force a rebuild. After building, the store is closed
 * and reopened, so reads go through table files; the whole database fits in the page cache
 * of the machine this was written on, so the reads are warm but not in RocksDB's own cache
 * for the lower levels of the tree. Set-up checks sample proofs against recomputed leaf
 * hashes and the root; tear-down prints the store reads per proof.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
 * -jar bulwark-bench/target/benchmarks.jar InclusionProofBenchmark -f 1 -wi 3 -i 5}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class InclusionProofBenchmark {
  static final int LEAVES = 10_000_000;
  static final int BUILD_BATCH = 100_000;
  static final int PROOF_POOL = 1_024;
  static final String DEFAULT_DIRECTORY = "/tmp/bulwark-bench-merkle-10m";
  private static final int CHECKED_PROOFS = 1_000;

  private final MerkleLog log = new MerkleLog("confirmations");
  private ObjectStore objects;
  private KeyValueStore store;
  private StoreSnapshot snapshot;
  private MerkleFixture.CountingView countingSnapshot;
  private long snapshotProofs;
  private Digest root;
  private InclusionProof[] proofs;
  private Digest[] proofLeafHashes;
  private int nextProof;

  @Setup(Level.Trial)
  public void setUp() {
    Path directory = Path.of(System.getProperty("bulwark.bench.merkleDir", DEFAULT_DIRECTORY));
    StoreConfig config = StoreConfig.defaults(directory).withDurability(Durability.NO_SYNC);
    objects = openOrReset(config);
    MerkleLogState state = log.load(objects.store());
    if (state.size() > LEAVES) {
      objects.close();
      throw new IllegalStateException(directory + " holds a log of " + state.size() + " leaves, not "
          + LEAVES + "; delete it to rebuild");
    }
    if (state.size() < LEAVES) {
      build(state, directory);
      objects.close();
      objects = ObjectStore.open(config, MerkleLog.TABLES); // flushes the memtable into table files
    } else {
      System.out.printf("%nreusing the log of %d leaves in %s%n", LEAVES, directory);
    }
    store = objects.store();
    state = log.load(store);
    if (state.size() != LEAVES) {
      throw new IllegalStateException("the stored log has " + state.size() + " leaves, not " + LEAVES);
    }
    root = state.root();
    if (!root.equals(log.root(store, LEAVES))) {
      throw new IllegalStateException("the frontier's root and the root from stored nodes differ");
    }

    SplittableRandom random = new SplittableRandom(2024);
    for (int i = 0; i < CHECKED_PROOFS; i++) {
      long index = i == 0 ? 0 : i == 1 ? LEAVES - 1 : random.nextLong(LEAVES);
      if (!log.inclusionProof(store, index, LEAVES).verify(MerkleFixture.leafHash(index), root)) {
        throw new IllegalStateException("stored log is inconsistent: the proof of leaf " + index + " fails");
      }
    }
    proofs = new InclusionProof[PROOF_POOL];
    proofLeafHashes = new Digest[PROOF_POOL];
    for (int i = 0; i < PROOF_POOL; i++) {
      long index = random.nextLong(LEAVES);
      proofs[i] = log.inclusionProof(store, index, LEAVES);
      proofLeafHashes[i] = MerkleFixture.leafHash(index);
    }
    snapshot = store.snapshot();
    countingSnapshot = new MerkleFixture.CountingView(snapshot);
  }

  private static ObjectStore openOrReset(StoreConfig config) {
    ObjectStore opened;
    try {
      opened = ObjectStore.open(config, MerkleLog.TABLES);
    } catch (SchemaConflictException e) {
      System.out.printf("%n%s was built with another table layout (%s); rebuilding%n", config.directory(),
          e.getMessage().lines().findFirst().orElse(""));
      TempDirectory.delete(config.directory());
      return ObjectStore.open(config, MerkleLog.TABLES);
    }
    if (opened.storedTables().size() != MerkleLog.TABLES.size()) {
      System.out.printf("%n%s holds other tables %s; rebuilding%n", config.directory(), opened.storedTables());
      opened.close();
      TempDirectory.delete(config.directory());
      return ObjectStore.open(config, MerkleLog.TABLES);
    }
    return opened;
  }

  private void build(MerkleLogState from, Path directory) {
    System.out.printf("%nbuilding a log of %d leaves in %s from %d leaves%n", LEAVES, directory, from.size());
    long started = System.nanoTime();
    MerkleLogState state = from;
    while (state.size() < LEAVES) {
      int n = (int) Math.min(BUILD_BATCH, LEAVES - state.size());
      Transaction tx = new Transaction(MerkleFixture.EMPTY); // appending reads nothing
      state = log.append(tx, state, MerkleFixture.leafHashes(state.size(), n));
      objects.store().write(tx.commit(), Durability.NO_SYNC);
      if (state.size() % 1_000_000 == 0) {
        System.out.printf("  %,d leaves, %.0f s%n", state.size(), (System.nanoTime() - started) / 1e9);
      }
    }
    System.out.printf("built in %.0f s%n", (System.nanoTime() - started) / 1e9);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (snapshotProofs > 0) {
      System.out.printf("%nstore reads per proof from the snapshot: %.1f gets, %.1f scans%n",
          (double) countingSnapshot.gets / snapshotProofs, (double) countingSnapshot.scans / snapshotProofs);
    }
    if (snapshot != null) {
      snapshot.close();
    }
    if (objects != null) {
      objects.close();
    }
  }

  @Benchmark
  public InclusionProof proveFromSnapshot(KeyPicker picker) {
    snapshotProofs++;
    return log.inclusionProof(countingSnapshot, picker.index(LEAVES), LEAVES);
  }

  @Benchmark
  public InclusionProof proveFromStore(KeyPicker picker) {
    return log.inclusionProof(store, picker.index(LEAVES), LEAVES);
  }

  @Benchmark
  public boolean verify() {
    int i = nextProof;
    nextProof = (i + 1) % PROOF_POOL;
    return proofs[i].verify(proofLeafHashes[i], root);
  }
}
