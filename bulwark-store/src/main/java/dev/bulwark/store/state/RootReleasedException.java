package dev.bulwark.store.state;

import dev.bulwark.store.StoreException;

/** A read or proof asked for under a state root that retention has already released. */
public final class RootReleasedException extends StoreException {
  private static final long serialVersionUID = 1L;

  private final long version;
  private final long oldestRetained;

  public RootReleasedException(long version, long oldestRetained, long latest) {
    super("the state root of version " + version + " was released: the store keeps versions " + oldestRetained
        + " to " + latest + " (state.retainedVersions)");
    this.version = version;
    this.oldestRetained = oldestRetained;
  }

  public long version() {
    return version;
  }

  public long oldestRetained() {
    return oldestRetained;
  }
}
