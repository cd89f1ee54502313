package dev.bulwark.bench;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.state.NodeLoader;
import dev.bulwark.core.state.NodeRef;
import dev.bulwark.core.state.StateNode;
import dev.bulwark.core.state.StateTrie;
import dev.bulwark.core.state.StateUpdate;
import dev.bulwark.store.Durability;
import dev.bulwark.store.ObjectStore;
import dev.bulwark.store.StoreConfig;
import dev.bulwark.store.StoreSnapshot;
import dev.bulwark.store.state.StateConfig;
import dev.bulwark.store.state.StateStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Authenticated state for the benchmarks: deterministic accounts (key {@code i} is 20 bytes,
 * {@value #KEY_PREFIX} plus {@code i} as 8 bytes big-endian; its value a 40-byte account
 * record: balance, nonce and a 24-byte owner tag), a state of N such accounts built once and
 * cached on disk, and the one-version write cycle the benchmarks time.
 *
 * <p><b>The cached database.</b> Building ten million accounts takes minutes, so
 * {@link #prepare} keeps the database in {@code /tmp/bulwark-bench-state-<N>} (under
 * {@code java.io.tmpdir}) and reuses it. It is reused only when its marker file
 * ({@value #MARKER}, written after the last build batch committed) names the same N, the
 * store's latest version is at or after the build's last one, and the first and last accounts
 * are readable in the latest version; anything else (an interrupted build, another N) is
 * deleted and rebuilt. The benchmarks only overwrite existing accounts, so every later version
 * still holds exactly N accounts, and it is fine that each run goes on from the latest version
 * of the previous one: the database keeps advancing, and the garbage collector keeps it at
 * the live tree plus the retained window. Delete the directory to start afresh. Only one
 * process may use it at a time (RocksDB's lock file refuses a second).
 */
final class StateFixture {
  private StateFixture() {}

  static final String KEY_PREFIX = "bulwark-acct";
  static final int KEY_BYTES = 20;
  static final int VALUE_BYTES = 40;
  /** Accounts per version while building the initial state. */
  static final int BUILD_BATCH = 100_000;
  /** Updates per version in the measured workload. */
  static final int BATCH = 1_000;
  /** Versions committed between two inline rounds of {@link StateStore#collectGarbage}. */
  static final int COLLECT_EVERY = 16;
  static final String MARKER = "bulwark-bench-state.properties";

  private static final byte[] PREFIX = KEY_PREFIX.getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /** Account {@code index}'s key. */
  static Bytes key(long index) {
    byte[] out = new byte[KEY_BYTES];
    System.arraycopy(PREFIX, 0, out, 0, PREFIX.length);
    putLong(out, PREFIX.length, index);
    return Bytes.adopt(out);
  }

  /** An account record: balance, nonce, and an owner tag derived from the index. */
  static Bytes account(long index, long balance, long nonce) {
    byte[] out = new byte[VALUE_BYTES];
    putLong(out, 0, balance);
    putLong(out, 8, nonce);
    long owner = index * 0x9E3779B97F4A7C15L;
    for (int i = 16; i < VALUE_BYTES; i += 8) {
      putLong(out, i, owner);
      owner = Long.rotateLeft(owner, 17) ^ 0x5DEECE66DL;
    }
    return Bytes.adopt(out);
  }

  private static void putLong(byte[] out, int at, long v) {
    for (int i = 0; i < Long.BYTES; i++) {
      out[at + i] = (byte) (v >>> (56 - 8 * i));
    }
  }

  static Path cachedDirectory(long keys) {
    return Path.of(System.getProperty("java.io.tmpdir"), "bulwark-bench-state-" + keys);
  }

  static ObjectStore open(Path directory, long cacheBytes) {
    return ObjectStore.open(StoreConfig.defaults(directory).withDurability(Durability.NO_SYNC)
        .withCacheBytesMax(cacheBytes), StateStore.TABLES);
  }

  /**
   * Makes sure {@link #cachedDirectory} holds a complete state of {@code keys} accounts,
   * reusing it when it looks complete and building it otherwise (with an object cache of
   * {@code buildCacheBytes}), and returns the directory. The store is closed again: the
   * caller opens it with the cache it wants to measure.
   */
  static Path prepare(long keys, long buildCacheBytes, PrintStream progress) {
    return prepare(cachedDirectory(keys), keys, buildCacheBytes, progress);
  }

  /** {@link #prepare(long, long, PrintStream)} in {@code directory} instead of the default place. */
  static Path prepare(Path directory, long keys, long buildCacheBytes, PrintStream progress) {
    if (looksComplete(directory, keys, progress)) {
      return directory;
    }
    TempDirectory.delete(directory);
    build(directory, keys, buildCacheBytes, progress);
    return directory;
  }

  private static boolean looksComplete(Path directory, long keys, PrintStream progress) {
    Path marker = directory.resolve(MARKER);
    if (!Files.exists(marker)) {
      if (Files.exists(directory)) {
        progress.println("state cache " + directory + " has no marker (an interrupted build?): rebuilding");
      }
      return false;
    }
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(marker)) {
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + marker, e);
    }
    if (!Long.toString(keys).equals(p.getProperty("keys"))) {
      progress.println("state cache " + directory + " holds " + p.getProperty("keys") + " keys, not " + keys + ": rebuilding");
      return false;
    }
    long builtVersion = Long.parseLong(p.getProperty("version", "-1"));
    try (ObjectStore objects = open(directory, 16L << 20)) {
      StateStore state = new StateStore(objects, StateConfig.DEFAULT);
      long latest = state.latestVersion();
      boolean ok;
      try {
        ok = latest >= builtVersion && builtVersion >= 0
            && state.get(latest, key(0)).isPresent() && state.get(latest, key(keys - 1)).isPresent();
      } catch (RuntimeException e) {
        progress.println("state cache " + directory + " does not read with this code (" + e.getMessage()
            + "; an older store format?)");
        ok = false;
      }
      progress.println((ok ? "reusing" : "rebuilding") + " state cache " + directory + ": " + keys + " keys, built at version "
          + builtVersion + ", latest version " + latest);
      return ok;
    }
  }

  private static void build(Path directory, long keys, long cacheBytes, PrintStream progress) {
    progress.printf("building %,d accounts in %s in versions of %,d (object cache %d MiB)%n", keys, directory, BUILD_BATCH,
        cacheBytes >> 20);
    long started = System.nanoTime();
    long version = -1;
    Digest root = StateTrie.EMPTY_ROOT;
    try (ObjectStore objects = open(directory, cacheBytes)) {
      // Two retained versions: the build's old trees and journals go as it proceeds, and the
      // collector's index of recent creations stays small.
      StateStore state = new StateStore(objects, StateConfig.DEFAULT.withRetainedVersions(2));
      long next = 0;
      long reportAt = Math.max(BUILD_BATCH, Math.min(1_000_000, keys / 10));
      while (next < keys) {
        int n = (int) Math.min(BUILD_BATCH, keys - next);
        List<StateUpdate> updates = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          updates.add(StateUpdate.put(key(next + i), account(next + i, 1_000_000, 0)));
        }
        version++;
        root = state.commit(version, root, updates);
        state.collectGarbage();
        next += n;
        if (next % reportAt < n || next == keys) {
          double seconds = (System.nanoTime() - started) / 1e9;
          progress.printf("  %,d / %,d accounts, version %d, %.0f s, %,.0f accounts/s, cache %d MiB, heap %d MiB%n", next, keys,
              version, seconds, next / seconds, objects.cache().stats().weightBytes() >> 20, usedHeapBytes() >> 20);
        }
      }
    }
    Properties p = new Properties();
    p.setProperty("keys", Long.toString(keys));
    p.setProperty("version", Long.toString(version));
    p.setProperty("root", root.hex());
    try (OutputStream out = Files.newOutputStream(directory.resolve(MARKER))) {
      p.store(out, "bulwark benchmark state: complete");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the marker in " + directory, e);
    }
    progress.printf("built %,d accounts in %.0f s, root %s, %d MiB on disk%n", keys, (System.nanoTime() - started) / 1e9,
        root.shortHex(), directorySize(directory) >> 20);
  }

  /** What a walk over a whole tree found. */
  record TreeStats(long internalNodes, long leaves, long encodedBytes, int depthMax, double leafDepthMean) {
    long nodes() {
      return internalNodes + leaves;
    }

    @Override public String toString() {
      return String.format("%,d nodes (%,d internal, %,d leaves), %,d encoded bytes, leaf depth mean %.2f, max %d",
          nodes(), internalNodes, leaves, encodedBytes, leafDepthMean, depthMax);
    }
  }

  /**
   * Loads every node of the latest tree through the object cache (so a cache big enough for
   * the tree ends up holding all of it) and counts what it saw.
   */
  static TreeStats walk(ObjectStore objects, StateStore state) {
    long internal = 0;
    long leaves = 0;
    long bytes = 0;
    long leafDepths = 0;
    int depthMax = 0;
    try (StoreSnapshot snapshot = objects.snapshot()) {
      NodeLoader loader = state.loader(snapshot);
      Digest root = state.root(snapshot, state.latestVersion());
      if (root.equals(StateTrie.EMPTY_ROOT)) {
        return new TreeStats(0, 0, 0, 0, 0);
      }
      ArrayDeque<NodeRef> stack = new ArrayDeque<>();
      stack.push(loader.root(root));
      while (!stack.isEmpty()) {
        NodeRef at = stack.pop();
        StateNode node = loader.load(at);
        bytes += node.encoding().length();
        depthMax = Math.max(depthMax, at.depth());
        switch (node) {
          case StateNode.Leaf leaf -> {
            leaves++;
            leafDepths += at.depth();
          }
          case StateNode.Internal in -> {
            internal++;
            for (int i = 0; i < 16; i++) {
              if (in.hasChild(i)) {
                stack.push(new NodeRef(in.child(i), in.childVersion(i), at.depth() + 1,
                    NodeRef.childPath(at.path(), at.depth(), i)));
              }
            }
          }
        }
      }
    }
    return new TreeStats(internal, leaves, bytes, depthMax, leaves == 0 ? 0 : (double) leafDepths / leaves);
  }

  /**
   * Loads the latest tree's nodes through the object cache level by level, root first, until
   * the cache holds {@code weightBytes}: the upper levels a long-running process keeps under
   * a bound that cannot hold the whole tree (every update passes through them), without the
   * thousands of batches it takes a workload to get there. Returns the nodes loaded.
   */
  static long fillLevels(ObjectStore objects, StateStore state, long weightBytes) {
    long loaded = 0;
    try (StoreSnapshot snapshot = objects.snapshot()) {
      NodeLoader loader = state.loader(snapshot);
      Digest root = state.root(snapshot, state.latestVersion());
      if (root.equals(StateTrie.EMPTY_ROOT)) {
        return 0;
      }
      // Deeper by one level per pass, each pass a depth-first walk (a stack of at most 16 per
      // level, where a breadth-first queue would hold a whole level of ten million keys'
      // references); the levels above are cache hits by then.
      for (int depthMax = 0; depthMax <= StateTrie.DEPTH_MAX; depthMax++) {
        boolean deeper = false;
        ArrayDeque<NodeRef> stack = new ArrayDeque<>();
        stack.push(loader.root(root));
        while (!stack.isEmpty()) {
          if (objects.cache().stats().weightBytes() >= weightBytes) {
            return loaded;
          }
          NodeRef at = stack.pop();
          StateNode node = loader.load(at);
          if (at.depth() == depthMax) {
            loaded++;
          }
          if (node instanceof StateNode.Internal in) {
            if (at.depth() == depthMax) {
              deeper = true;
              continue;
            }
            for (int i = 0; i < 16; i++) {
              if (in.hasChild(i)) {
                stack.push(new NodeRef(in.child(i), in.childVersion(i), at.depth() + 1,
                    NodeRef.childPath(at.path(), at.depth(), i)));
              }
            }
          }
        }
        if (!deeper) {
          break;
        }
      }
    }
    return loaded;
  }

  /**
   * The measured write cycle, one version per {@link #commit}: stage the batch into a
   * transaction over a fresh snapshot, commit the transaction to a {@link WriteSet} (whose size
   * is recorded), write it with the store's durability, and tell the state store it
   * committed. This is {@link StateStore#commit} spelled out, to see the write set.
   */
  static final class Workload {
    final ObjectStore objects;
    final StateStore state;
    final long keys;
    private final SplittableRandom random;
    private long version;
    private Digest root;
    private long nonce;
    long versions;
    long updates;
    long writeBytes;
    long collectedNodes;
    /** CPU time of the committing thread in each phase of {@link #commit}, summed. */
    long stageCpuNanos;
    long writeCpuNanos;
    long collectCpuNanos;

    Workload(ObjectStore objects, StateStore state, long keys, long seed) {
      this.objects = objects;
      this.state = state;
      this.keys = keys;
      this.random = new SplittableRandom(seed);
      this.version = state.latestVersion();
      this.root = state.latestRoot();
      this.nonce = version + 1;
    }

    /** {@value StateFixture#BATCH} overwrites of uniformly random accounts, with new balances and nonces. */
    List<StateUpdate> randomBatch() {
      List<StateUpdate> batch = new ArrayList<>(BATCH);
      nonce++;
      for (int i = 0; i < BATCH; i++) {
        long index = random.nextLong(keys);
        batch.add(StateUpdate.put(key(index), account(index, random.nextLong(1L << 40), nonce)));
      }
      return batch;
    }

    /** Commits {@code batch} as the next version and returns the write set's byte size. */
    long commit(List<StateUpdate> batch) {
      long next = version + 1;
      StateTrie.Result result;
      WriteSet writes;
      long cpu0 = THREADS.getCurrentThreadCpuTime();
      try (StoreSnapshot snapshot = objects.snapshot()) {
        Transaction tx = new Transaction(snapshot);
        result = state.stage(tx, next, root, batch);
        writes = tx.commit();
      }
      long cpu1 = THREADS.getCurrentThreadCpuTime();
      objects.commit(writes);
      state.committed(next);
      long cpu2 = THREADS.getCurrentThreadCpuTime();
      stageCpuNanos += cpu1 - cpu0;
      writeCpuNanos += cpu2 - cpu1;
      version = next;
      root = result.root();
      versions++;
      updates += batch.size();
      writeBytes += writes.byteSize();
      if (versions % COLLECT_EVERY == 0) {
        collectedNodes += state.collectGarbage().nodesDeleted();
        collectCpuNanos += THREADS.getCurrentThreadCpuTime() - cpu2;
      }
      return writes.byteSize();
    }

    long version() {
      return version;
    }

    Digest root() {
      return root;
    }
  }

  private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

  static long usedHeapBytes() {
    Runtime rt = Runtime.getRuntime();
    return rt.totalMemory() - rt.freeMemory();
  }

  /** Bytes of all regular files under {@code directory}. */
  static long directorySize(Path directory) {
    try (Stream<Path> walk = Files.walk(directory)) {
      return walk.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          return 0; // a file compaction just removed
        }
      }).sum();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + directory, e);
    }
  }
}
