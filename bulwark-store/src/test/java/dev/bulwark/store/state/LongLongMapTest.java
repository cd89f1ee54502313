package dev.bulwark.store.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The primitive map against a HashMap, with keys from a small range so probe chains collide and wrap. */
class LongLongMapTest {
  @Test
  void behavesLikeAHashMapUnderRandomMergesAndRemovals() {
    for (long seed = 1; seed <= 5; seed++) {
      SplittableRandom random = new SplittableRandom(seed);
      LongLongMap map = new LongLongMap(4);
      Map<Long, Long> model = new HashMap<>();
      for (int step = 0; step < 50_000; step++) {
        long key = random.nextInt(3) == 0 ? random.nextLong() : random.nextInt(-50, 400);
        long value = random.nextInt(100);
        switch (random.nextInt(3)) {
          case 0, 1 -> {
            map.mergeMax(key, value);
            model.merge(key, value, Math::max);
          }
          default -> {
            long existing = model.getOrDefault(key, -1L);
            long v = random.nextBoolean() && existing >= 0 ? existing : value;
            map.remove(key, v);
            model.remove(key, v);
          }
        }
        if (step % 997 == 0) {
          for (long k = -50; k < 400; k++) {
            assertThat(map.get(k, -1)).as("seed %d step %d key %d", seed, step, k).isEqualTo(model.getOrDefault(k, -1L));
          }
          assertThat(map.size()).isEqualTo(model.size());
        }
      }
      for (Map.Entry<Long, Long> e : model.entrySet()) {
        assertThat(map.get(e.getKey(), -1)).isEqualTo(e.getValue());
      }
    }
  }
}
