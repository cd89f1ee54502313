package dev.bulwark.store;

import static dev.bulwark.store.StoreTesting.expected;
import static dev.bulwark.store.StoreTesting.scanAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.WriteSet;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Drives each backend with seeded random operations and checks every read against a
 * {@code TreeMap} doing the same. Keys come from a four-letter alphabet that includes 0x00 and
 * 0xFF, so overwrites, deletes of present keys, prefix relations and unsigned ordering all
 * happen often. Snapshots keep a copy of the model as of when they were taken.
 *
 * <p>A failure names its backend, seed and step; replay one seed with
 * {@code -Dbulwark.store.seed=<seed>}.
 */
class KeyValueStoreModelTest {
  private static final long[] SEEDS = {1L, 2L, 0x5EEDL, 0xB01_3A4BL, 8_675_309L};
  private static final int STEPS = 400;
  private static final int SNAPSHOTS_OPEN_MAX = 4;
  private static final int BATCH_MUTATIONS_MAX = 8;
  private static final int HISTORY_SHOWN = 12;
  private static final int[] ALPHABET = {0x00, 0x61, 0x80, 0xFF};

  @TempDir Path root;

  static Stream<Arguments> runs() {
    Long replay = Long.getLong("bulwark.store.seed");
    long[] seeds = replay != null ? new long[] {replay} : SEEDS;
    List<Arguments> out = new ArrayList<>();
    for (Backend backend : Backend.values()) {
      for (long seed : seeds) {
        out.add(Arguments.of(backend, seed));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} seed {1}")
  @MethodSource("runs")
  void storeBehavesLikeASortedMap(Backend backend, long seed) {
    Run run = new Run(backend, root.resolve(backend + "-" + seed), seed);
    try {
      for (int step = 0; step < STEPS; step++) {
        run.step(step);
      }
      run.checkEverything("final check");
    } finally {
      run.closeAll();
    }
  }

  /** A snapshot under test and the model as it was when the snapshot was taken. */
  private record TakenSnapshot(StoreSnapshot snapshot, NavigableMap<Bytes, Bytes> model, int takenAtStep) {}

  private static final class Run {
    private final Backend backend;
    private final Path directory;
    private final long seed;
    private final SplittableRandom random;
    private final TreeMap<Bytes, Bytes> model = new TreeMap<>();
    private final List<TakenSnapshot> snapshots = new ArrayList<>();
    private final Deque<String> history = new ArrayDeque<>();
    private KeyValueStore store;
    private int step;

    Run(Backend backend, Path directory, long seed) {
      this.backend = backend;
      this.directory = directory;
      this.seed = seed;
      this.random = new SplittableRandom(seed);
      this.store = backend.open(directory);
    }

    /** What an assertion message says: enough to replay and to see what led here. */
    private String context(String what) {
      return backend + " seed " + seed + " step " + step + ": " + what + "\n  recent steps: " + String.join("\n    ", history);
    }

    private void record(String what) {
      history.addLast(step + " " + what);
      while (history.size() > HISTORY_SHOWN) {
        history.removeFirst();
      }
    }

    private Bytes randomKey() {
      if (random.nextInt(50) == 0) {
        return Bytes.EMPTY;
      }
      int length = 1 + random.nextInt(3);
      byte[] key = new byte[length];
      for (int i = 0; i < length; i++) {
        key[i] = (byte) ALPHABET[random.nextInt(ALPHABET.length)];
      }
      return Bytes.adopt(key);
    }

    private Bytes randomValue() {
      byte[] value = new byte[random.nextInt(7)];
      random.nextBytes(value);
      return Bytes.adopt(value);
    }

    private Durability randomDurability() {
      return random.nextInt(4) == 0 ? Durability.SYNC : Durability.NO_SYNC;
    }

    private KeyRange randomRange() {
      return switch (random.nextInt(5)) {
        case 0 -> KeyRange.ALL;
        case 1 -> {
          Bytes key = randomKey();
          yield KeyRange.prefix(key.slice(0, random.nextInt(key.length() + 1)));
        }
        case 2 -> new KeyRange(randomKey(), null);
        case 3 -> {
          Bytes a = randomKey();
          Bytes b = randomKey();
          yield a.compareTo(b) <= 0 ? new KeyRange(a, b) : new KeyRange(b, a);
        }
        default -> {
          Bytes a = randomKey();
          yield new KeyRange(a, a);
        }
      };
    }

    void step(int stepNumber) {
      this.step = stepNumber;
      int dice = random.nextInt(100);
      if (dice < 25) {
        Bytes key = randomKey();
        Bytes value = randomValue();
        record("put " + key + " = " + value);
        store.write(WriteSet.builder().put(key, value).build(), randomDurability());
        model.put(key, value);
      } else if (dice < 37) {
        Bytes key = randomKey();
        record("delete " + key + (model.containsKey(key) ? " (present)" : " (absent)"));
        store.write(WriteSet.builder().delete(key).build(), randomDurability());
        model.remove(key);
      } else if (dice < 49) {
        batch();
      } else if (dice < 61) {
        Bytes key = randomKey();
        record("get " + key);
        assertThat(store.get(key)).as(context("get " + key)).isEqualTo(Optional.ofNullable(model.get(key)));
      } else if (dice < 75) {
        scan();
      } else if (dice < 81) {
        takeSnapshot();
      } else if (dice < 92) {
        checkSnapshot();
      } else if (dice < 96) {
        closeSnapshot();
      } else if (dice < 98) {
        reopen();
      } else {
        record("full check");
        checkEverything("full check");
      }
    }

    private void batch() {
      WriteSet.Builder builder = WriteSet.builder();
      TreeMap<Bytes, Bytes> after = new TreeMap<>(model);
      int mutations = 1 + random.nextInt(BATCH_MUTATIONS_MAX);
      StringBuilder what = new StringBuilder("batch");
      for (int i = 0; i < mutations; i++) {
        Bytes key = randomKey();
        if (random.nextInt(3) == 0) {
          builder.delete(key);
          after.remove(key);
          what.append(" del ").append(key);
        } else {
          Bytes value = randomValue();
          builder.put(key, value);
          after.put(key, value);
          what.append(" put ").append(key).append('=').append(value);
        }
      }
      record(what.toString());
      store.write(builder.build(), randomDurability());
      model.clear();
      model.putAll(after);
    }

    private void scan() {
      KeyRange range = randomRange();
      if (random.nextBoolean()) {
        int limit = random.nextInt(12);
        record("scan " + range + " limit " + limit);
        assertThat(store.scan(range, limit)).as(context("scan " + range + " limit " + limit))
            .isEqualTo(expected(model, range, limit));
      } else {
        record("scan " + range);
        assertThat(scanAll(store, range)).as(context("scan " + range)).isEqualTo(expected(model, range));
      }
    }

    private void takeSnapshot() {
      if (snapshots.size() >= SNAPSHOTS_OPEN_MAX) {
        closeSnapshot();
        return;
      }
      record("take snapshot " + snapshots.size() + " of " + model.size() + " entries");
      snapshots.add(new TakenSnapshot(store.snapshot(), new TreeMap<>(model), step));
    }

    private void checkSnapshot() {
      if (snapshots.isEmpty()) {
        takeSnapshot();
        return;
      }
      int index = random.nextInt(snapshots.size());
      TakenSnapshot taken = snapshots.get(index);
      String which = "snapshot " + index + " taken at step " + taken.takenAtStep();
      switch (random.nextInt(3)) {
        case 0 -> {
          record("full scan of " + which);
          assertThat(scanAll(taken.snapshot())).as(context("full scan of " + which))
              .isEqualTo(expected(taken.model(), KeyRange.ALL));
        }
        case 1 -> {
          KeyRange range = randomRange();
          record("scan " + range + " of " + which);
          assertThat(scanAll(taken.snapshot(), range)).as(context("scan " + range + " of " + which))
              .isEqualTo(expected(taken.model(), range));
        }
        default -> {
          Bytes key = randomKey();
          record("get " + key + " from " + which);
          assertThat(taken.snapshot().get(key)).as(context("get " + key + " from " + which))
              .isEqualTo(Optional.ofNullable(taken.model().get(key)));
        }
      }
    }

    private void closeSnapshot() {
      if (snapshots.isEmpty()) {
        return;
      }
      int index = random.nextInt(snapshots.size());
      record("close snapshot " + index);
      TakenSnapshot taken = snapshots.remove(index);
      taken.snapshot().close();
      assertThatThrownBy(() -> taken.snapshot().get(Bytes.EMPTY)).as(context("closed snapshot"))
          .isInstanceOf(IllegalStateException.class);
    }

    private void reopen() {
      record("close and reopen with " + snapshots.size() + " snapshots open");
      store.close();
      for (TakenSnapshot taken : snapshots) {
        assertThatThrownBy(() -> taken.snapshot().get(Bytes.EMPTY))
            .as(context("snapshot taken at step " + taken.takenAtStep() + " after its store closed"))
            .isInstanceOf(IllegalStateException.class);
        taken.snapshot().close();
      }
      snapshots.clear();
      store = backend.open(directory);
      checkEverything("after reopen");
    }

    void checkEverything(String what) {
      assertThat(scanAll(store)).as(context(what + ": full scan")).isEqualTo(expected(model, KeyRange.ALL));
      for (TakenSnapshot taken : snapshots) {
        assertThat(scanAll(taken.snapshot()))
            .as(context(what + ": full scan of the snapshot taken at step " + taken.takenAtStep()))
            .isEqualTo(expected(taken.model(), KeyRange.ALL));
      }
    }

    void closeAll() {
      for (TakenSnapshot taken : snapshots) {
        taken.snapshot().close();
      }
      snapshots.clear();
      store.close();
    }
  }
}
