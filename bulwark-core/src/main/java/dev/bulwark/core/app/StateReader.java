package dev.bulwark.core.app;

import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.state.AuthenticatedMap;
import java.util.Optional;

/** Read access to an application's state: its authenticated maps and its own tables. */
public interface StateReader {
  <K, V> Optional<V> get(AuthenticatedMap<K, V> map, K key);

  /** The application's own tables, for reads the state maps do not cover. */
  ReadView view();
}
