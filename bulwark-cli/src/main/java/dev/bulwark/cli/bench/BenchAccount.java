package dev.bulwark.cli.bench;

import dev.bulwark.core.crypto.SigningKey;
import java.util.Objects;

/** One account opened for a bench run: its name and the key that owns it. */
public record BenchAccount(String name, SigningKey owner) {
  public BenchAccount {
    Objects.requireNonNull(name);
    Objects.requireNonNull(owner);
  }
}
