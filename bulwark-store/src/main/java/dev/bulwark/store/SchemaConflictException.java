package dev.bulwark.store;

/**
 * The database holds a table under the same name and version as the code but with a
 * different description: the code changed a type without bumping the table's version.
 * Opening stops here rather than decoding old bytes with the new codec.
 */
public final class SchemaConflictException extends StoreException {
  private static final long serialVersionUID = 1L;

  public SchemaConflictException(String message) {
    super(message);
  }
}
