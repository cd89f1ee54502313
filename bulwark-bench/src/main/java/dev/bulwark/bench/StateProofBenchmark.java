package dev.bulwark.bench;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.state.StateProof;
import dev.bulwark.store.ObjectStore;
import dev.bulwark.store.state.StateConfig;
import dev.bulwark.store.state.StateStore;
import java.nio.file.Path;
import java.util.Optional;
import java.util.SplittableRandom;
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

/**
 * State proofs over a state of {@code keys} accounts (a million by default; the same cached
 * database as {@link StateUpdateBenchmark}, see {@link StateFixture}), with a warm object
 * cache: 1 GiB, and the whole latest tree loaded into it in set-up.
 *
 * <ul>
 *   <li>{@code prove}: {@link StateStore#prove} of a uniformly random present account in the
 *       latest version (a store snapshot, the root lookup and the walk down the key's path);
 *   <li>{@code verify}: {@link StateProof#verify} of one of {@value #POOL} proofs made in
 *       set-up, against the root with the account's value (one SHA-256 of the key, one per
 *       node, and decoding each node).
 * </ul>
 *
 * <p>Set-up prints the pool's mean proof size: nodes, {@link StateProof#byteSize()} (the
 * node encodings) and the size of the proof encoded with {@link StateProof#CODEC}.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
 * -jar bulwark-bench/target/benchmarks.jar StateProofBenchmark -f 1 -wi 3 -i 5}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class StateProofBenchmark {
  static final long CACHE_BYTES = 1L << 30;
  static final int POOL = 4096;

  @Param({"1000000"})
  public long keys;

  private ObjectStore objects;
  private StateStore state;
  private long version;
  private Digest root;
  private Bytes[] poolKeys;
  private Optional<Bytes>[] poolValues;
  private StateProof[] proofs;

  @Setup(Level.Trial)
  public void setUp() {
    Path directory = StateFixture.prepare(keys, 256L << 20, System.out);
    objects = StateFixture.open(directory, CACHE_BYTES);
    state = new StateStore(objects, StateConfig.DEFAULT);
    long started = System.nanoTime();
    StateFixture.TreeStats tree = StateFixture.walk(objects, state);
    System.out.printf("warmed the cache in %.1f s: %s%n", (System.nanoTime() - started) / 1e9, tree);
    version = state.latestVersion();
    root = state.latestRoot();

    SplittableRandom random = new SplittableRandom(0x9200F);
    poolKeys = new Bytes[POOL];
    poolValues = newOptionalArray(POOL);
    proofs = new StateProof[POOL];
    long nodes = 0;
    long bytes = 0;
    long encoded = 0;
    int nodesMax = 0;
    for (int i = 0; i < POOL; i++) {
      poolKeys[i] = StateFixture.key(random.nextLong(keys));
      poolValues[i] = state.get(version, poolKeys[i]);
      proofs[i] = state.prove(version, poolKeys[i]);
      if (poolValues[i].isEmpty() || !proofs[i].verify(root, poolKeys[i], poolValues[i])) {
        throw new IllegalStateException("proof of a present account does not verify: " + poolKeys[i]);
      }
      nodes += proofs[i].nodes().size();
      nodesMax = Math.max(nodesMax, proofs[i].nodes().size());
      bytes += proofs[i].byteSize();
      encoded += StateProof.CODEC.encode(proofs[i]).length();
    }
    System.out.printf("proofs over %,d accounts (version %d, %d proofs): %.2f nodes (max %d), %.0f node bytes, %.0f encoded bytes%n",
        keys, version, POOL, (double) nodes / POOL, nodesMax, (double) bytes / POOL, (double) encoded / POOL);
  }

  @SuppressWarnings("unchecked")
  private static Optional<Bytes>[] newOptionalArray(int n) {
    return (Optional<Bytes>[]) new Optional<?>[n];
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (objects != null) {
      System.out.println("cache " + objects.cache().stats());
      objects.close();
    }
  }

  @Benchmark
  public StateProof prove(KeyPicker picker) {
    return state.prove(version, StateFixture.key(picker.index((int) keys)));
  }

  @Benchmark
  public boolean verify(KeyPicker picker) {
    int i = picker.index(POOL);
    return proofs[i].verify(root, poolKeys[i], poolValues[i]);
  }
}
