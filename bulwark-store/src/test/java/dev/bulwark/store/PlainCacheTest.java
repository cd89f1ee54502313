package dev.bulwark.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The plain-key cache against a map: it never answers wrongly, and it keeps to its weight bound. */
class PlainCacheTest {
  static byte[] key(int i) {
    // Keys that differ only in their last bytes, like node keys of one table and version.
    byte[] k = new byte[20];
    k[0] = 7;
    k[17] = (byte) (i >>> 16);
    k[18] = (byte) (i >>> 8);
    k[19] = (byte) i;
    return k;
  }

  @Test
  void randomOperationsAgreeWithAMapAndStayWithinTheBound() {
    SplittableRandom random = new SplittableRandom(3);
    PlainCache cache = new PlainCache(50_000);
    Map<Integer, String> model = new HashMap<>();
    Map<Long, Integer> tags = new HashMap<>();
    int present = 0;
    for (int step = 0; step < 200_000; step++) {
      int i = random.nextInt(5_000);
      byte[] k = key(i);
      long tag = PlainCache.tag(k);
      assertThat(tags.computeIfAbsent(tag, t -> i)).as("64-bit hash collision").isEqualTo(i);
      switch (random.nextInt(3)) {
        case 0 -> {
          String v = "v" + step;
          cache.put(tag, v, 10 + random.nextInt(90));
          model.put(i, v);
        }
        case 1 -> {
          cache.remove(tag);
          model.remove(i);
        }
        default -> {
          Object got = cache.get(PlainCache.tag(k.clone()));
          if (got != null) {
            present++;
            assertThat(got).as("key %d", i).isEqualTo(model.get(i)); // evicted is fine, wrong never
          }
        }
      }
      assertThat(cache.weight()).isLessThanOrEqualTo(50_000);
    }
    assertThat(present).isPositive();
    assertThat(cache.evictions()).isPositive();
    assertThat(cache.size()).isPositive().isLessThanOrEqualTo(model.size());
  }

  @Test
  void everythingFitsWhenTheBoundAllowsAndRemovalKeepsProbeChainsWhole() {
    PlainCache cache = new PlainCache(1L << 30);
    for (int i = 0; i < 100_000; i++) {
      cache.put(PlainCache.tag(key(i)), i, 100);
    }
    for (int i = 0; i < 100_000; i += 2) {
      cache.remove(PlainCache.tag(key(i)));
    }
    for (int i = 0; i < 100_000; i++) {
      assertThat(cache.get(PlainCache.tag(key(i)))).isEqualTo(i % 2 == 0 ? null : i);
    }
    assertThat(cache.size()).isEqualTo(50_000);
    assertThat(cache.weight()).isEqualTo(50_000L * 100);
    assertThat(cache.evictions()).isZero();
  }
}
