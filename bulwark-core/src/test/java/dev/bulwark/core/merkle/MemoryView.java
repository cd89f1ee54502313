package dev.bulwark.core.merkle;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.Entry;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.Mutation;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.WriteSet;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/** A TreeMap as a committed store, for tests of code that runs over a ReadView. */
final class MemoryView implements ReadView {
  private final NavigableMap<Bytes, Bytes> entries = new TreeMap<>();

  @Override
  public Optional<Bytes> get(Bytes key) {
    return Optional.ofNullable(entries.get(key));
  }

  @Override
  public Cursor scan(KeyRange range) {
    NavigableMap<Bytes, Bytes> slice = range.end() == null ? entries.tailMap(range.start(), true)
        : entries.subMap(range.start(), true, range.end(), false);
    return Cursor.of(slice.entrySet().stream().map(e -> new Entry(e.getKey(), e.getValue())).iterator());
  }

  void apply(WriteSet writes) {
    for (Map.Entry<Bytes, Mutation> e : writes.mutations().entrySet()) {
      switch (e.getValue()) {
        case Mutation.Put put -> entries.put(e.getKey(), put.value());
        case Mutation.Delete ignored -> entries.remove(e.getKey());
      }
    }
  }

  int size() {
    return entries.size();
  }
}
