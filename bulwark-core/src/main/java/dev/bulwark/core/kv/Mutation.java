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

  record Delete() implements Mutation {
    public static final Delete INSTANCE = new Delete();
  }
}
