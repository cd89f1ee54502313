package dev.bulwark.bench;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.table.ContentKey;
import java.security.MessageDigest;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * SHA-256 of one encoded {@link Transfer} (about 160 bytes, three 64-byte compression
 * blocks after padding):
 *
 * <ul>
 *   <li>{@code contentKey}: {@code ContentTable.keyOfEncoded}, the key of a content-addressed
 *       value (digest plus the {@code ContentKey} record);
 *   <li>{@code sha256}: {@code Digest.sha256}, which asks {@code MessageDigest.getInstance}
 *       for a fresh engine every call;
 *   <li>{@code sha256ReusedEngine}: one {@code MessageDigest} reused, the floor: the
 *       difference to {@code sha256} is the cost of the provider lookup and engine set-up.
 * </ul>
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
 * -jar bulwark-bench/target/benchmarks.jar HashBenchmark -f 1 -wi 3 -i 5}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class HashBenchmark {
  private Bytes encoded;
  private MessageDigest engine;

  @Setup
  public void setUp() {
    encoded = Transfer.CODEC.encode(Transfer.random(new SplittableRandom(42)));
    engine = Digest.newSha256();
  }

  @Benchmark
  public ContentKey contentKey() {
    return Transfer.TABLE.keyOfEncoded(encoded);
  }

  @Benchmark
  public Digest sha256() {
    return Digest.sha256(encoded);
  }

  @Benchmark
  public byte[] sha256ReusedEngine() {
    return engine.digest(encoded.unsafeArray());
  }
}
