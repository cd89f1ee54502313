package dev.bulwark.store;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.WriteSet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The child process of {@link CloseRaceTest}: in each round it opens a store with many open
 * snapshots and cursors, then closes the store on one thread while another thread closes those
 * snapshots and cursors. Freeing a native iterator or snapshot after its database is a crash in
 * native code, so the parent only has to see this process finish normally.
 *
 * <p>Arguments: backend, directory, rounds. Prints {@code survived <rounds>} at the end.
 */
public final class CloseRaceMain {
  private static final int RESOURCES_PER_KIND = 100;
  private static final long JOIN_TIMEOUT_MS = 30_000;

  private CloseRaceMain() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 3) {
      System.err.println("usage: CloseRaceMain <backend> <directory> <rounds>");
      System.exit(2);
    }
    Backend backend = Backend.parse(args[0]);
    Path directory = Path.of(args[1]);
    int rounds = Integer.parseInt(args[2]);
    for (int round = 0; round < rounds; round++) {
      KeyValueStore store = backend.open(directory);
      store.write(WriteSet.builder().put(Bytes.utf8("a"), Bytes.utf8("1")).put(Bytes.utf8("b"), Bytes.utf8("2")).build(),
          Durability.NO_SYNC);
      List<AutoCloseable> resources = new ArrayList<>();
      for (int i = 0; i < RESOURCES_PER_KIND; i++) {
        StoreSnapshot snapshot = store.snapshot();
        Cursor snapshotCursor = snapshot.scan(KeyRange.ALL);
        snapshotCursor.next();
        resources.add(snapshot);
        resources.add(snapshotCursor);
        resources.add(store.scan(KeyRange.ALL));
      }
      CountDownLatch start = new CountDownLatch(1);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread closer = Thread.ofPlatform().name("resource-closer").start(() -> {
        try {
          start.await();
          for (AutoCloseable resource : resources) {
            resource.close();
          }
        } catch (Throwable t) {
          failure.set(t);
        }
      });
      start.countDown();
      store.close();
      closer.join(JOIN_TIMEOUT_MS);
      if (closer.isAlive()) {
        System.err.println("round " + round + ": closing the resources did not finish");
        System.exit(3);
      }
      if (failure.get() != null) {
        System.err.println("round " + round + ": closing a resource threw");
        failure.get().printStackTrace();
        System.exit(4);
      }
    }
    System.out.println("survived " + rounds);
  }
}
