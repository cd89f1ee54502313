package dev.bulwark.server.engine;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.app.Application;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.store.Durability;
import dev.bulwark.store.ObjectStore;
import dev.bulwark.store.StoreConfig;
import dev.bulwark.store.state.StateCollector;
import dev.bulwark.store.state.StateStore;
import java.time.Duration;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * One replica's committed state: the store, the authenticated state, and how far the
 * replicated log has been applied. Every replica, the leader included, applies each committed
 * batch here the same way: its write set and the new applied mark in one atomic store write.
 * The applied mark carries a running digest over every batch applied, so replicas that applied
 * the same log index can be compared by one hash.
 *
 * <p>Each replica also deletes the state nodes that no retained root reaches any more, on a
 * collector thread of its own that every applied batch wakes: a local clean-up, not part of the
 * replicated log, so its progress differs between replicas and never enters the digest.
 */
public final class Replica implements AutoCloseable {
  /** How long the collector sleeps when no batch wakes it: a backstop, batches nudge it. */
  private static final Duration COLLECTOR_IDLE = Duration.ofSeconds(1);

  private final StoreConfig storeConfig;
  private final Application<?, ?> application;
  private final EngineConfig config;
  private volatile ObjectStore objects;
  private volatile StateStore state;
  private final Durability applyDurability;
  private volatile EngineTables.Applied applied;
  private volatile SignedBatchHead lastHead;
  private final boolean collectGarbage;
  /** Deletes unreachable state nodes of {@link #state}; null when collection is off. */
  private volatile StateCollector collector;

  /**
   * @param applyDurability SYNC when nothing else makes applied batches durable; NO_SYNC under
   *     Raft, whose log is durable on a majority and is replayed past the persisted applied mark
   */
  public Replica(StoreConfig storeConfig, Application<?, ?> application, EngineConfig config, Durability applyDurability) {
    this.storeConfig = storeConfig;
    this.application = application;
    this.config = config;
    this.applyDurability = applyDurability;
    this.collectGarbage = true;
    open();
  }

  /**
   * A replica over a store that is already open, with the engine's and {@code application}'s
   * tables registered (the simulator reuses emptied stores across seeds). Closing the replica
   * closes the store. It runs no collector thread, so that a simulation stays deterministic:
   * state nodes stay stored until the store is emptied.
   */
  public Replica(ObjectStore objects, Application<?, ?> application, EngineConfig config, Durability applyDurability) {
    this.storeConfig = objects.config();
    this.application = application;
    this.config = config;
    this.applyDurability = applyDurability;
    this.collectGarbage = false;
    load(objects);
  }

  private void open() {
    load(ObjectStore.open(storeConfig, EngineTables.all(application.tables())));
  }

  private void load(ObjectStore opened) {
    this.objects = opened;
    this.state = new StateStore(objects, config.state());
    this.applied = EngineTables.APPLIED_MARK.get(objects.store(), EngineTables.APPLIED_KEY).orElse(EngineTables.Applied.NONE);
    this.lastHead = applied.batchNumber() < 0 ? null
        : EngineTables.HEADS.get(objects.store(), applied.batchNumber()).orElseThrow(() -> new IllegalStateException(
            "applied batch " + applied.batchNumber() + " has no head in " + storeConfig.directory()));
    if (state.latestVersion() != applied.batchNumber()) {
      throw new IllegalStateException("state version " + state.latestVersion() + " does not match applied batch "
          + applied.batchNumber() + " in " + storeConfig.directory());
    }
    if (collectGarbage) {
      this.collector = StateCollector.start(state, COLLECTOR_IDLE);
    }
  }

  private void stopCollector() {
    StateCollector running = collector;
    collector = null;
    if (running != null) {
      running.close();
    }
  }

  /** The collector of unreachable state nodes, while one runs. */
  public Optional<StateCollector> collector() {
    return Optional.ofNullable(collector);
  }

  public ObjectStore objects() {
    return objects;
  }

  public StateStore state() {
    return state;
  }

  public EngineTables.Applied applied() {
    return applied;
  }

  /** The signed head of the last applied batch, or empty before the first. */
  public Optional<SignedBatchHead> lastHead() {
    return Optional.ofNullable(lastHead);
  }

  /**
   * Applies a committed batch at {@code logIndex}. Entries at or below the applied index are
   * skipped (a replay after a restart); a batch out of order is a broken invariant.
   */
  public void apply(BatchEntry entry, long logIndex, long logTerm) {
    apply(entry, entry.encode(), logIndex, logTerm);
  }

  /**
   * As {@link #apply(BatchEntry, long, long)}, given also the entry's canonical encoding (as it
   * came off the Raft log), so that a multi-megabyte batch is not encoded again to be hashed.
   */
  public synchronized void apply(BatchEntry entry, Bytes encoded, long logIndex, long logTerm) {
    if (logIndex <= applied.logIndex()) {
      return;
    }
    if (entry.batchNumber() != applied.batchNumber() + 1) {
      throw new IllegalStateException("batch " + entry.batchNumber() + " at log index " + logIndex
          + " does not follow applied batch " + applied.batchNumber());
    }
    Digest entryDigest = Digest.sha256(encoded);
    MessageDigest running = Digest.newSha256();
    running.update(applied.stateDigest().unsafeArray());
    running.update(entryDigest.unsafeArray());
    EngineTables.Applied next = new EngineTables.Applied(logIndex, logTerm, entry.batchNumber(), Digest.finish(running));
    objects.store().write(entry.writes(), EngineTables.APPLIED_MARK.keyOf(EngineTables.APPLIED_KEY).toBytes(),
        EngineTables.APPLIED.encode(next), applyDurability);
    state.committed(entry.batchNumber());
    applied = next;
    lastHead = entry.head();
    StateCollector collecting = collector;
    if (collecting != null) {
      collecting.nudge(); // a root may have left the window
    }
  }

  /** Records an applied index that carried no batch (a Raft configuration or no-op entry). */
  public synchronized void skip(long logIndex, long logTerm) {
    if (logIndex <= applied.logIndex()) {
      return;
    }
    EngineTables.Applied next = new EngineTables.Applied(logIndex, logTerm, applied.batchNumber(), applied.stateDigest());
    objects.store().write(WriteSet.builder().put(EngineTables.APPLIED_MARK.keyOf(EngineTables.APPLIED_KEY).toBytes(),
        EngineTables.APPLIED.encode(next)).build(), applyDurability);
    applied = next;
  }

  /**
   * Writes a consistent copy of the store into {@code target} and returns the applied mark it
   * holds: the copy is exactly the state after that mark. Applies go on meanwhile (a checkpoint
   * flushes the store's memory table to disk, hundreds of milliseconds under load, and the
   * Raft state machine updater used to wait for it); so the mark is read back from the copy
   * itself, the one place it is certain to match.
   */
  public EngineTables.Applied checkpoint(java.nio.file.Path target) {
    objects.store().checkpoint(target);
    try (var copy = storeConfig.backend().open(target)) {
      return EngineTables.APPLIED_MARK.get(copy, EngineTables.APPLIED_KEY).orElse(EngineTables.Applied.NONE);
    }
  }

  /**
   * Replaces the whole store with a copy of {@code checkpoint} (a snapshot installed from the
   * leader, or this replica's own after its store was lost) and reopens it.
   */
  public synchronized void restoreFrom(java.nio.file.Path checkpoint) {
    stopCollector();
    objects.close();
    java.nio.file.Path directory = storeConfig.directory();
    try {
      dev.bulwark.store.FileTrees.delete(directory);
      java.nio.file.Files.createDirectories(directory);
      try (var files = java.nio.file.Files.list(checkpoint)) {
        for (java.nio.file.Path f : files.toList()) {
          java.nio.file.Files.copy(f, directory.resolve(f.getFileName()));
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot restore " + directory + " from " + checkpoint, e);
    }
    open();
  }

  @Override
  public void close() {
    stopCollector();
    objects.close();
  }
}
