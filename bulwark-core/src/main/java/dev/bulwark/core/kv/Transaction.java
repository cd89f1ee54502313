package dev.bulwark.core.kv;

import dev.bulwark.core.Bytes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Reads a base view (a snapshot, or a layer of uncommitted writes over one) plus its own
 * writes, and commits to a {@link WriteSet}. Writes live in a stack of layers: a savepoint
 * pushes one, rolling back to it drops every layer above, releasing it folds its writes into
 * the layer below. So one request inside a batch can fail and leave the others untouched.
 *
 * <p>Not thread-safe: one transaction belongs to one thread (the sequencer).
 */
public final class Transaction implements ReadView {
  private final ReadView base;
  private final List<NavigableMap<Bytes, Mutation>> layers = new ArrayList<>();
  private boolean committed;

  public Transaction(ReadView base) {
    this.base = Objects.requireNonNull(base);
    layers.add(new TreeMap<>());
  }

  /**
   * A position in the savepoint stack, returned by {@link #savepoint()}. The serial tells
   * apart two savepoints opened at the same depth, so a stale handle is refused instead of
   * closing a newer savepoint.
   */
  public record Savepoint(Transaction owner, int depth, long serial) {}

  private final List<Long> openSerials = new ArrayList<>();
  private long nextSerial;

  private NavigableMap<Bytes, Mutation> top() {
    if (committed) {
      throw new IllegalStateException("transaction already committed");
    }
    return layers.getLast();
  }

  @Override
  public Optional<Bytes> get(Bytes key) {
    if (committed) {
      throw new IllegalStateException("transaction already committed");
    }
    for (int i = layers.size() - 1; i >= 0; i--) {
      Mutation m = layers.get(i).get(key);
      if (m != null) {
        return m instanceof Mutation.Put put ? Optional.of(put.value()) : Optional.empty();
      }
    }
    return base.get(key);
  }

  @Override
  public Cursor scan(KeyRange range) {
    if (committed) {
      throw new IllegalStateException("transaction already committed");
    }
    NavigableMap<Bytes, Mutation> overlay = new TreeMap<>();
    for (NavigableMap<Bytes, Mutation> layer : layers) {
      overlay.putAll(range.end() == null ? layer.tailMap(range.start(), true)
          : layer.subMap(range.start(), true, range.end(), false));
    }
    return new WriteSet.MergingCursor(base.scan(range), overlay);
  }

  public void put(Bytes key, Bytes value) {
    top().put(Objects.requireNonNull(key), new Mutation.Put(value));
  }

  public void delete(Bytes key) {
    top().put(Objects.requireNonNull(key), Mutation.Delete.INSTANCE);
  }

  /** Opens a nested scope whose writes can be rolled back alone. */
  public Savepoint savepoint() {
    top();
    layers.add(new TreeMap<>());
    long serial = nextSerial++;
    openSerials.add(serial);
    return new Savepoint(this, layers.size() - 1, serial);
  }

  private void checkInnermost(Savepoint savepoint) {
    if (savepoint.owner() != this) {
      throw new IllegalArgumentException("savepoint belongs to another transaction");
    }
    if (savepoint.depth() != layers.size() - 1 || openSerials.getLast() != savepoint.serial()) {
      throw new IllegalStateException(
          "savepoint " + savepoint.depth() + " is not the innermost open one (" + (layers.size() - 1) + ")");
    }
  }

  /** Discards every write made since {@code savepoint} and closes it. */
  public void rollbackTo(Savepoint savepoint) {
    top();
    checkInnermost(savepoint);
    layers.removeLast();
    openSerials.removeLast();
  }

  /** Keeps the writes made since {@code savepoint}, folding them into the enclosing scope. */
  public void release(Savepoint savepoint) {
    top();
    checkInnermost(savepoint);
    NavigableMap<Bytes, Mutation> inner = layers.removeLast();
    openSerials.removeLast();
    layers.getLast().putAll(inner);
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
      // Also drops savepoints the body opened and left open, so its own exception goes on.
      discardFrom(savepoint);
      throw e;
    }
    release(savepoint);
    return result;
  }

  /** Drops the layer {@code savepoint} opened and every layer opened after it. */
  private void discardFrom(Savepoint savepoint) {
    while (layers.size() > savepoint.depth()) {
      layers.removeLast();
      openSerials.removeLast();
    }
  }

  /** How many savepoints are open. */
  public int openSavepoints() {
    return layers.size() - 1;
  }

  /** Number of keys written so far (in all scopes). */
  public int writeCount() {
    int n = 0;
    for (Map<Bytes, Mutation> layer : layers) {
      n += layer.size();
    }
    return n;
  }

  /** Ends the transaction and returns its writes; every savepoint must be closed first. */
  public WriteSet commit() {
    top();
    if (layers.size() != 1) {
      throw new IllegalStateException(openSavepoints() + " savepoints still open at commit");
    }
    committed = true;
    return WriteSet.adopt(layers.getFirst());
  }
}
