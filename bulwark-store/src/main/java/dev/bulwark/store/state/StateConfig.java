package dev.bulwark.store.state;

/**
 * The limits of the authenticated state store.
 *
 * @param retainedVersions how many of the latest state roots stay readable (proofs under an
 *     older root are refused); at least 1
 * @param collectDeletesMax the most node deletions the collector writes in one store batch,
 *     so it never holds the store for long
 * @param journalChunkDigests digests per journal record, so a huge batch never makes one huge value
 */
public record StateConfig(int retainedVersions, int collectDeletesMax, int journalChunkDigests) {
  public static final StateConfig DEFAULT = new StateConfig(128, 4096, 4096);

  public StateConfig {
    if (retainedVersions < 1 || retainedVersions > 1_000_000) {
      throw new IllegalArgumentException("state.retainedVersions must be between 1 and 1000000, got " + retainedVersions);
    }
    if (collectDeletesMax < 1 || collectDeletesMax > 1_000_000) {
      throw new IllegalArgumentException("state.collectDeletesMax must be between 1 and 1000000, got " + collectDeletesMax);
    }
    if (journalChunkDigests < 1 || journalChunkDigests > 100_000) {
      throw new IllegalArgumentException("state.journalChunkDigests must be between 1 and 100000, got " + journalChunkDigests);
    }
  }

  public StateConfig withRetainedVersions(int versions) {
    return new StateConfig(versions, collectDeletesMax, journalChunkDigests);
  }
}
