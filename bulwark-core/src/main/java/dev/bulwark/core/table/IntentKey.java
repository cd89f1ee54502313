package dev.bulwark.core.table;

import dev.bulwark.core.Bytes;
import java.util.Objects;

/** Table id + the ordered encoding of a typed key record: a mutable slot in an intent table. */
public record IntentKey(TableId table, Bytes key) {
  public IntentKey {
    Objects.requireNonNull(table);
    Objects.requireNonNull(key);
  }

  public Bytes toBytes() {
    return table.prefix().concat(key);
  }

  @Override
  public String toString() {
    return table.hex() + "/" + key.hex();
  }
}
