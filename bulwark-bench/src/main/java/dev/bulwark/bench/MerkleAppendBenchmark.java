package dev.bulwark.bench;

import dev.bulwark.core.Digest;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.merkle.InclusionProof;
import dev.bulwark.core.merkle.MerkleLog;
import dev.bulwark.core.merkle.MerkleLogState;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Appending one batch of {@value #BATCH} leaf hashes to a {@link MerkleLog} that already holds
 * {@code prefixLeaves} leaves (default 1,000,000), into a fresh {@link Transaction} over a
 * snapshot-like view of that log. One operation is one batch: divide the score by
 * {@value #BATCH} for the cost per leaf.
 *
 * <ul>
 *   <li>{@code append}: {@code MerkleLog.append}: per leaf one stored node, and per complete
 *       subtree one SHA-256 node hash and one stored node (about 2,000 writes and 1,000 node
 *       hashes per batch), each write a key encoding and a {@code TreeMap} insertion in the
 *       transaction;
 *   <li>{@code appendAndProve}: {@code MerkleLog.appendAndProve}: the same, plus every node it
 *       writes kept in a hash map, and the {@value #BATCH} inclusion proofs (about 20 path
 *       entries each, looked up in that map, plus on average 1.4 node hashes for the tree's
 *       incomplete right edge) assembled from it and the old frontier, without reading the
 *       store.
 * </ul>
 *
 * <p>The prefix is built once per trial in memory ({@link MerkleFixture#inMemory}: a
 * transaction over an empty store, committed, read through {@code WriteSet.over}), a few
 * seconds and a few hundred MB of heap. Every operation appends the same leaves
 * {@code prefixLeaves} to {@code prefixLeaves + 999} to the same state, so every operation
 * does the same work; the leaf hashes are made in set-up. The view counts its reads and the
 * count is printed at tear-down: the append paths read nothing.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
 * -jar bulwark-bench/target/benchmarks.jar MerkleAppendBenchmark -f 1 -wi 8 -w 2s -i 5 -r 2s}.
 * An operation takes a millisecond or more, so C2 needs more warm-up than the usual three
 * iterations, and a loaded machine longer still; add
 * {@code -prof dev.bulwark.bench.CpuTimeProfiler} to see CPU time beside wall-clock time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class MerkleAppendBenchmark {
  static final int BATCH = 1_000;
  private static final int PREFIX_BATCH = 100_000;

  @Param({"1000000"})
  public long prefixLeaves;

  private final MerkleLog log = new MerkleLog("confirmations");
  private MerkleFixture.CountingView view;
  private MerkleLogState state;
  private List<Digest> leaves;

  @Setup(Level.Trial)
  public void setUp() {
    long started = System.nanoTime();
    MerkleFixture.Prefix prefix = MerkleFixture.inMemory(log, prefixLeaves, PREFIX_BATCH);
    view = new MerkleFixture.CountingView(prefix.view());
    state = prefix.state();
    leaves = MerkleFixture.leafHashes(prefixLeaves, BATCH);
    System.out.printf("%nprefix of %d leaves (%d stored keys) built in %.1f s%n", state.size(), prefix.keys(),
        (System.nanoTime() - started) / 1e9);

    // The proofs appendAndProve returns are checked against proofs read back from the store.
    Transaction tx = new Transaction(view);
    MerkleLog.Appended appended = log.appendAndProve(tx, state, leaves);
    if (!appended.state().equals(log.append(new Transaction(view), state, leaves))) {
      throw new IllegalStateException("append and appendAndProve end in different states");
    }
    long after = appended.state().size();
    Digest root = appended.state().root();
    for (int i = 0; i < BATCH; i++) {
      InclusionProof proof = appended.proofs().get(i);
      if (!proof.verify(leaves.get(i), root)
          || !proof.equals(log.inclusionProof(tx, prefixLeaves + i, after))) {
        throw new IllegalStateException("proof of leaf " + (prefixLeaves + i) + " is wrong");
      }
    }
    view.gets = 0;
    view.scans = 0;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    System.out.printf("%nreads of the base view during the benchmark: %d gets, %d scans%n", view.gets, view.scans);
  }

  @Benchmark
  public void append(Blackhole bh) {
    Transaction tx = new Transaction(view);
    bh.consume(log.append(tx, state, leaves));
    bh.consume(tx);
  }

  @Benchmark
  public void appendAndProve(Blackhole bh) {
    Transaction tx = new Transaction(view);
    bh.consume(log.appendAndProve(tx, state, leaves));
    bh.consume(tx);
  }
}
