package dev.bulwark.store;

import static dev.bulwark.store.StoreTesting.scanAll;
import static dev.bulwark.store.StoreTesting.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.Entry;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.WriteSet;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A writer commits batches that set N keys to the same counter while a reader takes
 * snapshots: every snapshot must show all N keys with one value (never part of a batch), and
 * successive snapshots never go back in time. Bounded on both sides; no timing assertions.
 */
class SnapshotIsolationConcurrencyTest {
  private static final int KEYS = 16;
  private static final int BATCHES = 3_000;
  private static final int READS_MAX = 20_000;
  private static final long JOIN_TIMEOUT_MS = 60_000;
  private static final Bytes PREFIX = utf8("counter/");

  @TempDir Path dir;

  private static Bytes key(int i) {
    return PREFIX.concat(utf8(String.format("%02d", i)));
  }

  private static Bytes value(long counter) {
    return Bytes.adopt(ByteBuffer.allocate(Long.BYTES).putLong(counter).array());
  }

  private static long counter(Bytes value) {
    return ByteBuffer.wrap(value.unsafeArray()).getLong();
  }

  private static WriteSet batch(long counter) {
    WriteSet.Builder builder = WriteSet.builder();
    for (int i = 0; i < KEYS; i++) {
      builder.put(key(i), value(counter));
    }
    return builder.build();
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void snapshotsNeverSeePartOfABatch(Backend backend) throws InterruptedException {
    try (KeyValueStore store = backend.open(dir)) {
      store.write(batch(0), Durability.SYNC);

      CountDownLatch start = new CountDownLatch(1);
      AtomicBoolean writerDone = new AtomicBoolean();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      AtomicLong reads = new AtomicLong();
      AtomicLong distinctSeen = new AtomicLong();
      List<String> violations = Collections.synchronizedList(new ArrayList<>());

      Thread writer = Thread.ofPlatform().name("writer").unstarted(() -> {
        try {
          start.await();
          for (long c = 1; c <= BATCHES; c++) {
            store.write(batch(c), c % 50 == 0 ? Durability.SYNC : Durability.NO_SYNC);
          }
        } catch (Throwable t) {
          failure.compareAndSet(null, t);
        } finally {
          writerDone.set(true);
        }
      });

      Thread reader = Thread.ofPlatform().name("reader").unstarted(() -> {
        try {
          start.await();
          long previous = 0;
          // At least one read after the writer finished, so the last batch is seen too.
          boolean sawWriterDone = false;
          for (int r = 0; r < READS_MAX && !sawWriterDone && violations.size() < 10; r++) {
            sawWriterDone = writerDone.get();
            try (StoreSnapshot snapshot = store.snapshot()) {
              List<Entry> entries = scanAll(snapshot, KeyRange.prefix(PREFIX));
              long first = entries.isEmpty() ? -1 : counter(entries.getFirst().value());
              List<Long> seen = entries.stream().map(e -> counter(e.value())).toList();
              if (entries.size() != KEYS || seen.stream().anyMatch(v -> v != first)) {
                violations.add("read " + r + ": scan shows " + entries.size() + " keys with counters " + seen);
              }
              for (int i = 0; i < KEYS; i++) {
                long got = snapshot.get(key(i)).map(SnapshotIsolationConcurrencyTest::counter).orElse(-1L);
                if (got != first) {
                  violations.add("read " + r + ": get " + i + " = " + got + " but the scan saw " + first);
                }
              }
              if (first < previous) {
                violations.add("read " + r + ": counter went back from " + previous + " to " + first);
              }
              if (first != previous) {
                distinctSeen.incrementAndGet();
              }
              previous = first;
            }
            reads.incrementAndGet();
          }
        } catch (Throwable t) {
          failure.compareAndSet(null, t);
        }
      });

      writer.start();
      reader.start();
      start.countDown();
      writer.join(JOIN_TIMEOUT_MS);
      reader.join(JOIN_TIMEOUT_MS);

      assertThat(writer.isAlive()).as("writer finished").isFalse();
      assertThat(reader.isAlive()).as("reader finished").isFalse();
      assertThat(failure.get()).as("a thread failed").isNull();
      assertThat(violations).as(backend + ": snapshots that saw part of a batch (after %d reads)", reads.get())
          .isEmpty();
      assertThat(reads.get()).isPositive();
      System.out.printf("%s: %d snapshot reads saw %d distinct counters%n", backend, reads.get(), distinctSeen.get());
      assertThat(scanAll(store, KeyRange.prefix(PREFIX))).hasSize(KEYS)
          .allSatisfy(e -> assertThat(counter(e.value())).isEqualTo(BATCHES));
    }
  }
}
