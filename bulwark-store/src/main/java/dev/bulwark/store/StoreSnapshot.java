package dev.bulwark.store;

import dev.bulwark.core.kv.ReadView;

/** A consistent read-only view of the store as of one moment; close it to free resources. */
public interface StoreSnapshot extends ReadView, AutoCloseable {
  @Override
  void close();
}
