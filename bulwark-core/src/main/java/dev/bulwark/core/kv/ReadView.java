package dev.bulwark.core.kv;

import dev.bulwark.core.Bytes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A consistent, ordered view of keys and values: a store snapshot, a transaction (snapshot
 * plus its own writes), or a layer of uncommitted writes over another view.
 */
public interface ReadView {
  Optional<Bytes> get(Bytes key);

  /** The entries in {@code range} in ascending key order; the caller closes the cursor. */
  Cursor scan(KeyRange range);

  /** At most {@code limit} entries of {@code range}, in order: a bounded scan in one call. */
  default List<Entry> scan(KeyRange range, int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("negative scan limit " + limit);
    }
    List<Entry> out = new ArrayList<>(Math.min(limit, 1024));
    try (Cursor cursor = scan(range)) {
      while (out.size() < limit && cursor.hasNext()) {
        out.add(cursor.next());
      }
    }
    return out;
  }
}
