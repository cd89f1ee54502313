package dev.bulwark.core.kv;

import java.util.Iterator;

/** An iterator over store entries that holds resources (native iterators) until closed. */
public interface Cursor extends Iterator<Entry>, AutoCloseable {
  @Override
  void close();

  /** A cursor over entries already in memory. */
  static Cursor of(Iterator<Entry> entries) {
    return new Cursor() {
      @Override public boolean hasNext() { return entries.hasNext(); }
      @Override public Entry next() { return entries.next(); }
      @Override public void close() {}
    };
  }
}
