package dev.bulwark.core.testing;

import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * A minimal seeded property runner: each case gets its own {@link SplittableRandom} whose seed
 * is derived from one base seed and the property name, and a failure names that case seed so
 * it can be replayed exactly with {@link #replay(long, Consumer)}.
 *
 * <p>The base seed is fixed so that CI runs are repeatable; {@code -Dbulwark.seed=N} explores
 * other cases (Surefire passes {@code -D} properties to the test JVM).
 */
public final class Seeded {
  public static final long BASE_SEED = Long.getLong("bulwark.seed", 0x5EED_B017_A5C0_DECL);

  private Seeded() {}

  /** Runs {@code body} for {@code cases} freshly seeded random sources. */
  public static void forAll(String property, int cases, Consumer<SplittableRandom> body) {
    SplittableRandom seeds = new SplittableRandom(BASE_SEED ^ property.hashCode());
    for (int i = 0; i < cases; i++) {
      long seed = seeds.nextLong();
      try {
        body.accept(new SplittableRandom(seed));
      } catch (Throwable t) {
        throw new AssertionError("property '" + property + "' failed on case " + i + " of " + cases
            + " (base seed " + BASE_SEED + "L, case seed " + seed + "L; replay with Seeded.replay(" + seed
            + "L, body)): " + t, t);
      }
    }
  }

  /** Runs one case again from the case seed a failure message printed. */
  public static void replay(long caseSeed, Consumer<SplittableRandom> body) {
    body.accept(new SplittableRandom(caseSeed));
  }
}
