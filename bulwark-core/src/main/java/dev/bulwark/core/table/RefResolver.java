package dev.bulwark.core.table;

/** Loads content-addressed values for {@link Ref}s, typically through a shared cache. */
public interface RefResolver {
  /**
   * The value stored under {@code key}; a key that is not stored is a dangling reference, a
   * broken invariant reported as {@link dev.bulwark.core.CorruptionException}.
   */
  <T> T resolve(ContentTable<T> table, ContentKey key);
}
