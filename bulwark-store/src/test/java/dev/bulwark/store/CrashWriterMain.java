package dev.bulwark.store;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.WriteSet;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The child process of {@link CrashRecoveryTest}: opens a store and commits synced batches
 * until it is killed. Batch {@code i} writes {@code b<i>/<j>} = i for every j below the key
 * count, plus {@code last} = i, and only after the write returns prints {@code committed i}.
 * It resumes after the last batch a previous run left, printing {@code ready <next>} first.
 *
 * <p>Arguments: backend, directory, keys per batch, batches at most (the loop's bound).
 */
public final class CrashWriterMain {
  static final Bytes LAST = Bytes.utf8("last");

  private CrashWriterMain() {}

  static Bytes batchKey(long batch, int j) {
    return Bytes.utf8("b" + batch + "/" + j);
  }

  static Bytes value(long batch) {
    return Bytes.utf8(Long.toString(batch));
  }

  static long parseValue(Bytes value) {
    return Long.parseLong(new String(value.unsafeArray(), StandardCharsets.UTF_8));
  }

  public static void main(String[] args) {
    if (args.length != 4) {
      System.err.println("usage: CrashWriterMain <backend> <directory> <keysPerBatch> <batchesMax>");
      System.exit(2);
    }
    Backend backend = Backend.parse(args[0]);
    Path directory = Path.of(args[1]);
    int keysPerBatch = Integer.parseInt(args[2]);
    long batchesMax = Long.parseLong(args[3]);
    PrintStream out = System.out;
    try (KeyValueStore store = backend.open(directory)) {
      long first = store.get(LAST).map(v -> parseValue(v) + 1).orElse(0L);
      out.println("ready " + first);
      out.flush();
      for (long i = first; i < first + batchesMax; i++) {
        WriteSet.Builder batch = WriteSet.builder();
        for (int j = 0; j < keysPerBatch; j++) {
          batch.put(batchKey(i, j), value(i));
        }
        batch.put(LAST, value(i));
        store.write(batch.build(), Durability.SYNC);
        out.println("committed " + i);
        out.flush();
      }
    }
    out.println("done");
    out.flush();
  }
}
