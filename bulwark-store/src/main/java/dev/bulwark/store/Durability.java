package dev.bulwark.store;

/** Whether a write waits for the disk. */
public enum Durability {
  /** The write-ahead log is fsynced before the write returns: it survives a power cut. */
  SYNC,
  /** The write reaches the OS page cache: it survives a process crash, not a power cut. */
  NO_SYNC
}
