package dev.bulwark.bench;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.Encoder;
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
 * Encoding and decoding one ledger-like {@link Transfer} (about 160 bytes: two 32-byte
 * accounts, i64 amount, varint nonce, UTF-8 memo, 64-byte signature) with the record codec
 * built from {@code Codecs.record} and {@code Codecs.field}.
 *
 * <ul>
 *   <li>{@code encode}: {@code Codec.encode(value)} to a fresh {@code Bytes}, the path tables
 *       use (a new 64-byte {@code Encoder} that grows, then a copy);
 *   <li>{@code encodeReusingEncoder}: into one reset {@code Encoder}, the floor without the
 *       buffer growth and final copy;
 *   <li>{@code decode}: {@code Codec.decode(bytes)} with the default limits, including the
 *       strict UTF-8 check of the memo and the end-of-input check.
 * </ul>
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
 * -jar bulwark-bench/target/benchmarks.jar CodecBenchmark -f 1 -wi 3 -i 5}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class CodecBenchmark {
  private Transfer transfer;
  private Bytes encoded;
  private Encoder encoder;

  @Setup
  public void setUp() {
    transfer = Transfer.random(new SplittableRandom(42));
    encoded = Transfer.CODEC.encode(transfer);
    encoder = new Encoder(256);
    Transfer back = Transfer.CODEC.decode(encoded);
    if (!back.equals(transfer)) {
      throw new IllegalStateException("round trip changed the transfer: " + transfer + " -> " + back);
    }
  }

  @Benchmark
  public Bytes encode() {
    return Transfer.CODEC.encode(transfer);
  }

  @Benchmark
  public int encodeReusingEncoder() {
    encoder.reset();
    Transfer.CODEC.encode(transfer, encoder);
    return encoder.size();
  }

  @Benchmark
  public Transfer decode() {
    return Transfer.CODEC.decode(encoded);
  }
}
