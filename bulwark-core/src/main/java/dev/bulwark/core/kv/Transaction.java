package dev.bulwark.core.kv;

import dev.bulwark.core.Bytes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Reads a base view (a snapshot, or a layer of uncommitted writes over one) plus its own
 * writes, and commits to a {@link WriteSet}. Savepoints nest: rolling back to one undoes every
 * write made since it was opened, releasing it keeps them. So one request inside a batch can
 * fail and leave the others untouched.
 *
 * <p>Why an undo log and not a map per savepoint: the sequencer opens a savepoint for every
 * request of a batch. With one map per savepoint, each read looked through every open map and
 * each release copied the request's writes into the batch's map, a second sorted insert per
 * write. Here every write goes once into the transaction's maps, and while a savepoint is open
 * the value it replaced is appended to an undo log: a release drops a mark, and only a rollback
 * (a rejected request, the rare case) pays, in proportion to what it undoes.
 *
 * <p>The writes are kept twice, sorted (for scans and the committed write set) and by hash (for
 * point reads, most of a batch's reads: a hash probe instead of a descent through thousands of
 * keys that share long prefixes). The hashed copy goes on serving reads in the write set.
 *
 * <p>Not thread-safe: one transaction belongs to one thread (the sequencer).
 */
public final class Transaction implements ReadView {
  private final ReadView base;
  private final NavigableMap<Bytes, Mutation> writes = new TreeMap<>();
  /** The same entries as {@link #writes}, for point reads. */
  private final Map<Bytes, Mutation> hashed;
  /** While a savepoint is open: each write's key, and what it replaced (null: nothing). */
  private final List<Bytes> undoKeys = new ArrayList<>();
  private final List<Mutation> undoPrior = new ArrayList<>();
  /** Per open savepoint, innermost last: its serial and the undo log's length when it opened. */
  private final List<Long> openSerials = new ArrayList<>();
  private final List<Integer> openMarks = new ArrayList<>();
  private long nextSerial;
  private boolean committed;

  /** Most keys a size hint may reserve room for: a larger hint is taken as this. */
  static final int EXPECTED_WRITES_MAX = 1 << 20;

  public Transaction(ReadView base) {
    this(base, 0);
  }

  /**
   * A transaction sized for about {@code expectedWrites} distinct keys (at most
   * {@link #EXPECTED_WRITES_MAX}): a hint, not a limit, which spares the hash map its rehashing
   * as it grows when the caller knows roughly how much it will write.
   */
  public Transaction(ReadView base, int expectedWrites) {
    this.base = Objects.requireNonNull(base);
    if (expectedWrites < 0) {
      throw new IllegalArgumentException("negative expected write count " + expectedWrites);
    }
    this.hashed = HashMap.newHashMap(Math.min(expectedWrites, EXPECTED_WRITES_MAX));
  }

  /**
   * A position in the savepoint stack, returned by {@link #savepoint()}: {@code depth} is how
   * many savepoints are open with it. The serial tells apart two savepoints opened at the same
   * depth, so a stale handle is refused instead of closing a newer savepoint.
   */
  public record Savepoint(Transaction owner, int depth, long serial) {}

  private void checkOpen() {
    if (committed) {
      throw new IllegalStateException("transaction already committed");
    }
  }

  @Override
  public Optional<Bytes> get(Bytes key) {
    checkOpen();
    Mutation m = hashed.get(key);
    if (m != null) {
      return m instanceof Mutation.Put put ? Optional.of(put.value()) : Optional.empty();
    }
    return base.get(key);
  }

  @Override
  public Cursor scan(KeyRange range) {
    checkOpen();
    // A copy: the cursor stays valid while the transaction goes on writing.
    NavigableMap<Bytes, Mutation> overlay = new TreeMap<>(range.end() == null ? writes.tailMap(range.start(), true)
        : writes.subMap(range.start(), true, range.end(), false));
    return new WriteSet.MergingCursor(base.scan(range), overlay);
  }

  public void put(Bytes key, Bytes value) {
    write(Objects.requireNonNull(key), new Mutation.Put(value));
  }

  public void delete(Bytes key) {
    write(Objects.requireNonNull(key), Mutation.Delete.INSTANCE);
  }

  private void write(Bytes key, Mutation mutation) {
    checkOpen();
    Mutation prior = hashed.put(key, mutation);
    writes.put(key, mutation);
    if (!openMarks.isEmpty()) {
      undoKeys.add(key);
      undoPrior.add(prior);
    }
  }

  /** Opens a nested scope whose writes can be rolled back alone. */
  public Savepoint savepoint() {
    checkOpen();
    long serial = nextSerial++;
    openSerials.add(serial);
    openMarks.add(undoKeys.size());
    return new Savepoint(this, openSerials.size(), serial);
  }

  private void checkInnermost(Savepoint savepoint) {
    if (savepoint.owner() != this) {
      throw new IllegalArgumentException("savepoint belongs to another transaction");
    }
    if (savepoint.depth() != openSerials.size() || openSerials.getLast() != savepoint.serial()) {
      throw new IllegalStateException(
          "savepoint " + savepoint.depth() + " is not the innermost open one (" + openSerials.size() + ")");
    }
  }

  /** Discards every write made since {@code savepoint} and closes it. */
  public void rollbackTo(Savepoint savepoint) {
    checkOpen();
    checkInnermost(savepoint);
    closeInnermost(true);
  }

  /** Keeps the writes made since {@code savepoint}, folding them into the enclosing scope. */
  public void release(Savepoint savepoint) {
    checkOpen();
    checkInnermost(savepoint);
    closeInnermost(false);
  }

  /** Closes the innermost savepoint, undoing its writes if {@code undo}. */
  private void closeInnermost(boolean undo) {
    int mark = openMarks.removeLast();
    openSerials.removeLast();
    if (undo) {
      for (int i = undoKeys.size() - 1; i >= mark; i--) {
        Mutation prior = undoPrior.get(i);
        Bytes key = undoKeys.get(i);
        if (prior == null) {
          writes.remove(key);
          hashed.remove(key);
        } else {
          writes.put(key, prior);
          hashed.put(key, prior);
        }
      }
    }
    // Kept for an enclosing savepoint to undo; needed by nobody once the outermost closes.
    if (undo || openMarks.isEmpty()) {
      int keep = openMarks.isEmpty() ? 0 : mark;
      undoKeys.subList(keep, undoKeys.size()).clear();
      undoPrior.subList(keep, undoPrior.size()).clear();
    }
  }

  /**
   * Runs {@code body} in a savepoint: released if it returns, rolled back if it throws (and
   * the exception goes on).
   */
  public <T> T inSavepoint(Supplier<T> body) {
    Savepoint savepoint = savepoint();
    T result;
    try {
      result = body.get();
    } catch (RuntimeException | Error e) {
      // Also undoes savepoints the body opened and left open, so its own exception goes on.
      while (openSerials.size() >= savepoint.depth()) {
        closeInnermost(true);
      }
      throw e;
    }
    release(savepoint);
    return result;
  }

  /** How many savepoints are open. */
  public int openSavepoints() {
    return openSerials.size();
  }

  /** Number of distinct keys written so far (in all scopes). */
  public int writeCount() {
    return writes.size();
  }

  /** Ends the transaction and returns its writes; every savepoint must be closed first. */
  public WriteSet commit() {
    checkOpen();
    if (!openSerials.isEmpty()) {
      throw new IllegalStateException(openSavepoints() + " savepoints still open at commit");
    }
    committed = true;
    return WriteSet.adopt(writes, hashed);
  }
}
