package dev.bulwark.core.table;

import dev.bulwark.core.codec.Codec;

/**
 * A typed table: a name, a version and codecs, from which its {@link TableId} is derived.
 * Bump the version (or rename) for an incompatible change; the database refuses to open when
 * a table's stored description differs from the code's under the same name and version.
 */
public sealed interface Table<V> permits ContentTable, IntentTable {
  String name();

  int version();

  TableId id();

  Codec<V> valueCodec();

  /** The canonical text the id is derived from and the meta table stores. */
  String description();
}
