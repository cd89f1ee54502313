package dev.bulwark.core.kv;

import dev.bulwark.core.Bytes;
import java.util.Objects;

/** What a write does to one key. */
public sealed interface Mutation {
  record Put(Bytes value) implements Mutation {
    public Put {
      Objects.requireNonNull(value);
    }
  }

  /**
   * Removes the key. A {@code single} delete is a promise from the writer that the key was
   * put at most once since it was last deleted (never overwritten): a store may then drop the
   * put and the delete together where they meet (RocksDB's {@code SingleDelete}) instead of
   * carrying a tombstone down to its last level. If the promise is broken, an older value may
   * come back, so only keys written once by construction qualify. Any store may treat a
   * single delete as a plain one; reads see no difference.
   *
   * <p>A flag rather than a third kind of mutation, so that code which tells puts from
   * deletes ({@code case Delete}) handles it unchanged.
   */
  record Delete(boolean single) implements Mutation {
    public static final Delete INSTANCE = new Delete(false);
    public static final Delete SINGLE = new Delete(true);

    public Delete() {
      this(false);
    }
  }
}
