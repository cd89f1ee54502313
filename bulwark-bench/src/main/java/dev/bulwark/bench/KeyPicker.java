package dev.bulwark.bench;

import java.util.SplittableRandom;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * Per-thread randomness for the benchmarks: uniform indexes into a preloaded key set, and a
 * counter for keys never written before. Seeded, so runs pick the same sequence.
 */
@State(Scope.Thread)
public class KeyPicker {
  private final SplittableRandom random = new SplittableRandom(0x5EED_B017_0001L);
  private long counter = random.nextLong();

  /** A uniform index in [0, bound). */
  int index(int bound) {
    return random.nextInt(bound);
  }

  /** A fresh 64-bit value per call, scattered so consecutive calls do not sort together. */
  long nextScattered() {
    return (counter++) * 0x9E3779B97F4A7C15L;
  }
}
