package dev.bulwark.core.app;

import dev.bulwark.core.kv.Transaction;
import dev.bulwark.core.state.AuthenticatedMap;

/**
 * What {@link Application#apply} may touch: the authenticated state and its own tables, all
 * inside the request's savepoint, so a {@link Rejection} undoes every write of that request.
 */
public interface ApplyContext extends StateReader {
  <K, V> void put(AuthenticatedMap<K, V> map, K key, V value);

  <K, V> void delete(AuthenticatedMap<K, V> map, K key);

  /** The batch transaction, for the application's own (not authenticated) tables. */
  Transaction transaction();

  /** The batch this request is applied in. */
  long batchNumber();

  /** Its position in the batch. */
  int indexInBatch();

  /** The batch's time, read once by the sequencer when the batch opened. */
  long batchTimeMs();
}
