package dev.bulwark.bench;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.crypto.Signature;
import dev.bulwark.core.crypto.SignatureDomain;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.receipt.BatchHead;
import dev.bulwark.core.receipt.SignedBatchHead;
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
 * Ed25519 (BouncyCastle's {@code rfc8032.Ed25519} behind {@link SigningKey} and
 * {@link PublicKey}) over a batch-head-sized message, one thread. The payload is the canonical
 * encoding of a realistic {@link BatchHead} (about 120 bytes: operator id, batch number, log
 * size, three digests, time); the {@link SignatureDomain} tag and its 0x00 bring the signed
 * message to about 145 bytes.
 *
 * <ul>
 *   <li>{@code sign}: {@code SigningKey.sign(domain, payload)}: the domain message is built
 *       (one copy), then one Ed25519 signature (SHA-512 of seed and message, one fixed-base
 *       scalar multiplication);
 *   <li>{@code verify}: {@code PublicKey.verify(domain, payload, signature)} with a key object
 *       made once, so its point is decoded already (a double-scalar multiplication);
 *   <li>{@code signBatchHead}: {@code SignedBatchHead.sign(head, key)}, what the operator does
 *       once per batch: encode the head, then {@code sign}.
 * </ul>
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
 * -jar bulwark-bench/target/benchmarks.jar SignatureBenchmark -f 1 -wi 3 -i 5}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class SignatureBenchmark {
  private static final SignatureDomain DOMAIN = BatchHead.DOMAIN;

  private SigningKey key;
  private PublicKey publicKey;
  private BatchHead head;
  private Bytes payload;
  private Signature signature;

  @Setup
  public void setUp() {
    SplittableRandom random = new SplittableRandom(42);
    key = SigningKey.generate(random);
    publicKey = key.publicKey();
    head = new BatchHead("operator-eu-west-1", 1_000, 1_001_000, randomDigest(random), randomDigest(random),
        randomDigest(random), 1_767_225_600_000L);
    payload = BatchHead.CODEC.encode(head);
    signature = key.sign(DOMAIN, payload);
    int messageBytes = DOMAIN.message(payload).length();
    if (messageBytes < 130 || messageBytes > 170) {
      throw new IllegalStateException("the signed message has " + messageBytes + " bytes, not about 150");
    }
    if (!publicKey.verify(DOMAIN, payload, signature)) {
      throw new IllegalStateException("signature does not verify");
    }
    if (!SignedBatchHead.sign(head, key).verify(publicKey)) {
      throw new IllegalStateException("signed batch head does not verify");
    }
    System.out.printf("%nsigned message: %d bytes (payload %d)%n", messageBytes, payload.length());
  }

  private static Digest randomDigest(SplittableRandom random) {
    byte[] bytes = new byte[Digest.LENGTH];
    random.nextBytes(bytes);
    return Digest.of(bytes);
  }

  @Benchmark
  public Signature sign() {
    return key.sign(DOMAIN, payload);
  }

  @Benchmark
  public boolean verify() {
    return publicKey.verify(DOMAIN, payload, signature);
  }

  @Benchmark
  public SignedBatchHead signBatchHead() {
    return SignedBatchHead.sign(head, key);
  }
}
