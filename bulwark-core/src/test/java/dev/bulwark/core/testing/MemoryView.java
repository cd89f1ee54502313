package dev.bulwark.core.testing;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.Entry;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.Mutation;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.WriteSet;
import java.util.ArrayList;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A store in a {@link TreeMap}: the base view for transaction tests and the place where
 * table tests corrupt stored bytes by hand. Scans copy the range, so the map may change
 * while a cursor is open.
 */
public final class MemoryView implements ReadView {
  private final NavigableMap<Bytes, Bytes> entries = new TreeMap<>();
  private int openCursors;

  public MemoryView put(Bytes key, Bytes value) {
    entries.put(key, value);
    return this;
  }

  public MemoryView put(String key, String value) {
    return put(Bytes.utf8(key), Bytes.utf8(value));
  }

  public void remove(Bytes key) {
    entries.remove(key);
  }

  /** Applies a committed batch, as a store would. */
  public MemoryView apply(WriteSet writes) {
    for (Map.Entry<Bytes, Mutation> e : writes.mutations().entrySet()) {
      switch (e.getValue()) {
        case Mutation.Put put -> entries.put(e.getKey(), put.value());
        case Mutation.Delete ignored -> entries.remove(e.getKey());
      }
    }
    return this;
  }

  /** The live map, for tests that tamper with stored bytes. */
  public NavigableMap<Bytes, Bytes> entries() {
    return entries;
  }

  /** Cursors opened and not yet closed: a scan must close what it opens. */
  public int openCursors() {
    return openCursors;
  }

  @Override
  public Optional<Bytes> get(Bytes key) {
    return Optional.ofNullable(entries.get(key));
  }

  @Override
  public Cursor scan(KeyRange range) {
    NavigableMap<Bytes, Bytes> slice = range.end() == null ? entries.tailMap(range.start(), true)
        : entries.subMap(range.start(), true, range.end(), false);
    ArrayList<Entry> copy = new ArrayList<>(slice.size());
    for (Map.Entry<Bytes, Bytes> e : slice.entrySet()) {
      copy.add(new Entry(e.getKey(), e.getValue()));
    }
    Cursor inner = Cursor.of(copy.iterator());
    openCursors++;
    return new Cursor() {
      private boolean closed;

      @Override public boolean hasNext() { return inner.hasNext(); }

      @Override public Entry next() { return inner.next(); }

      @Override public void close() {
        if (!closed) {
          closed = true;
          openCursors--;
        }
      }
    };
  }
}
