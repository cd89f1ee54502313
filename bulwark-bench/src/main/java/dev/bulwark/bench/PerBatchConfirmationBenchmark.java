package dev.bulwark.bench;

import dev.bulwark.core.Digest;
import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.merkle.MerkleLog;
import dev.bulwark.core.merkle.MerkleLogState;
import dev.bulwark.core.receipt.BatchHead;
import dev.bulwark.core.receipt.Confirmation;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.SignedBatchHead;
import java.util.ArrayList;
import java.util.List;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * The operator's whole CPU cost of per-batch mode for one batch of {@value #BATCH}
 * confirmations, one thread, on a confirmation log that already holds
 * {@value #PREFIX_LEAVES} leaves. One operation is one batch: divide the score by
 * {@value #BATCH} for the cost per confirmation (the goal is under 2 µs).
 *
 * <ul>
 *   <li>{@code perBatch}, the whole path: {@value #BATCH} {@link Confirmation} records from
 *       request and result digests made in set-up, each encoded and leaf-hashed
 *       ({@code Confirmation.leafHash}); {@code MerkleLog.appendAndProve} of the
 *       {@value #BATCH} leaf hashes into a fresh {@link Transaction} over a snapshot-like
 *       in-memory view of the log, which also yields the {@value #BATCH} inclusion proofs; the
 *       new root ({@code MerkleLogState.root}); one {@link BatchHead}, its hash (which the next
 *       head chains to) and its Ed25519 signature ({@code SignedBatchHead.sign}); the
 *       {@value #BATCH} {@link Receipt.PerBatch} objects; and {@code Transaction.commit}, the
 *       {@link WriteSet} handed to the store. Not included: the store write itself (I/O, see
 *       {@code StoreBenchmark}), executing the requests, and encoding receipts for the wire;
 *   <li>{@code confirmationsAndLeafHashes}: the first step alone (records, encoding, leaf
 *       hashes);
 *   <li>{@code headAndSignature}: the head steps alone (root, head, head hash, signature);
 *   <li>{@code commitWrites}: {@code Transaction.commit} alone, on a transaction into which
 *       the batch was just appended and proved (in a per-invocation set-up, which JMH
 *       excludes from the time; fine at this operation's length of tens of µs or more);
 *       {@code MerkleAppendBenchmark.appendAndProve} measures the log step alone, and what the
 *       components do not cover is the {@value #BATCH} receipt objects.
 * </ul>
 *
 * <p>The log prefix is built once per trial in memory ({@link MerkleFixture#inMemory}, a few
 * seconds, a few hundred MB of heap); its state is what the operator keeps between batches.
 * Every operation closes the same batch (number 1,000) on the same state, so every operation
 * does the same work. Set-up checks that the receipts of one batch verify under the public key;
 * the base view counts its reads and tear-down prints them (per-batch mode reads nothing).
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
 * -jar bulwark-bench/target/benchmarks.jar PerBatchConfirmationBenchmark -f 1 -wi 8 -w 2s -i 5 -r 2s}.
 * An operation takes a millisecond or more, so C2 needs more warm-up than the usual three
 * iterations, and a loaded machine longer still; add
 * {@code -prof dev.bulwark.bench.CpuTimeProfiler} to see CPU time beside wall-clock time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class PerBatchConfirmationBenchmark {
  static final int BATCH = 1_000;
  static final long PREFIX_LEAVES = 1_000_000;
  private static final int PREFIX_BATCH = 100_000;
  private static final String OPERATOR_ID = "operator-eu-west-1";
  private static final long BATCH_NUMBER = PREFIX_LEAVES / BATCH;

  /** What one batch yields: the receipts, the hash the next head chains to, the writes to store. */
  public record Closed(List<Receipt.PerBatch> receipts, Digest headHash, WriteSet writes) {}

  private final MerkleLog log = new MerkleLog("confirmations");
  private MerkleFixture.CountingView view;
  private MerkleLogState state;
  private MerkleLogState stateAfter;
  private SigningKey key;
  private PublicKey publicKey;
  private Digest[] requestDigests;
  private Digest[] resultDigests;
  private Digest previousHeadHash;

  @Setup(Level.Trial)
  public void setUp() {
    long started = System.nanoTime();
    MerkleFixture.Prefix prefix = MerkleFixture.inMemory(log, PREFIX_LEAVES, PREFIX_BATCH);
    view = new MerkleFixture.CountingView(prefix.view());
    state = prefix.state();
    System.out.printf("%nprefix of %d leaves (%d stored keys) built in %.1f s%n", state.size(), prefix.keys(),
        (System.nanoTime() - started) / 1e9);

    SplittableRandom random = new SplittableRandom(99);
    key = SigningKey.generate(random);
    publicKey = key.publicKey();
    requestDigests = new Digest[BATCH];
    resultDigests = new Digest[BATCH];
    for (int i = 0; i < BATCH; i++) {
      requestDigests[i] = randomDigest(random);
      resultDigests[i] = randomDigest(random);
    }
    previousHeadHash = randomDigest(random);

    Closed closed = perBatch();
    if (closed.receipts().size() != BATCH || closed.writes().size() <= BATCH) {
      throw new IllegalStateException("a batch gave " + closed.receipts().size() + " receipts and "
          + closed.writes().size() + " writes");
    }
    for (Receipt.PerBatch receipt : closed.receipts()) {
      if (!receipt.verify(publicKey).isValid()) {
        throw new IllegalStateException("receipt does not verify: " + receipt.verify(publicKey));
      }
    }
    stateAfter = log.append(new Transaction(view), state, leafHashes(confirmations()));
    System.out.printf("confirmation leaf: %d bytes; receipt: %d bytes encoded; log after the batch: %d leaves%n",
        closed.receipts().getFirst().confirmation().leaf().length(),
        Receipt.CODEC.encode(closed.receipts().getFirst()).length(), stateAfter.size());
    view.gets = 0;
    view.scans = 0;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    System.out.printf("%nreads of the base view during the benchmark: %d gets, %d scans%n", view.gets, view.scans);
  }

  private static Digest randomDigest(SplittableRandom random) {
    byte[] bytes = new byte[Digest.LENGTH];
    random.nextBytes(bytes);
    return Digest.of(bytes);
  }

  private List<Confirmation> confirmations() {
    List<Confirmation> out = new ArrayList<>(BATCH);
    for (int i = 0; i < BATCH; i++) {
      out.add(new Confirmation(OPERATOR_ID, requestDigests[i], BATCH_NUMBER, i, resultDigests[i]));
    }
    return out;
  }

  private static List<Digest> leafHashes(List<Confirmation> confirmations) {
    List<Digest> out = new ArrayList<>(confirmations.size());
    for (Confirmation c : confirmations) {
      out.add(c.leafHash());
    }
    return out;
  }

  private SignedBatchHead signHead(MerkleLogState after) {
    BatchHead head = new BatchHead(OPERATOR_ID, BATCH_NUMBER, after.size(), after.root(), BatchHead.ZERO,
        previousHeadHash, System.currentTimeMillis());
    return SignedBatchHead.sign(head, key);
  }

  @Benchmark
  public Closed perBatch() {
    List<Confirmation> confirmations = confirmations();
    List<Digest> leaves = leafHashes(confirmations);
    Transaction tx = new Transaction(view);
    MerkleLog.Appended appended = log.appendAndProve(tx, state, leaves);
    SignedBatchHead signed = signHead(appended.state());
    Digest headHash = signed.head().hash();
    List<Receipt.PerBatch> receipts = new ArrayList<>(BATCH);
    for (int i = 0; i < BATCH; i++) {
      receipts.add(new Receipt.PerBatch(confirmations.get(i), signed, appended.proofs().get(i)));
    }
    return new Closed(receipts, headHash, tx.commit());
  }

  /** A transaction holding one appended and proved batch, made afresh before every invocation. */
  @State(Scope.Thread)
  public static class Appended {
    Transaction tx;

    @Setup(Level.Invocation)
    public void setUp(PerBatchConfirmationBenchmark batch) {
      tx = new Transaction(batch.view);
      batch.log.appendAndProve(tx, batch.state, leafHashes(batch.confirmations()));
    }
  }

  @Benchmark
  public WriteSet commitWrites(Appended appended) {
    return appended.tx.commit();
  }

  @Benchmark
  public List<Digest> confirmationsAndLeafHashes() {
    return leafHashes(confirmations());
  }

  @Benchmark
  public void headAndSignature(Blackhole bh) {
    SignedBatchHead signed = signHead(stateAfter);
    bh.consume(signed);
    bh.consume(signed.head().hash());
  }
}
