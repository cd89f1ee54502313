package dev.bulwark.store.state;

/**
 * The limits of the authenticated state store.
 *
 * @param retainedVersions how many of the latest state roots stay readable (proofs under an
 *     older root are refused); at least 1
 * @param collectDeletesMax the most node deletions the collector writes in one store batch,
 *     so it never holds the store for long
 * @param journalChunkDigests stale nodes per journal record, so a huge batch never makes one huge value
 * @param linkedDepth the upper levels of the latest tree, down to this depth, stay linked in
 *     memory (outside the object cache's bound), so updates walk them without cache lookups:
 *     at most 16^0 + ... + 16^depth internal nodes, about 70,000 (some 50 MB) for 4; 0 to 6
 */
public record StateConfig(int retainedVersions, int collectDeletesMax, int journalChunkDigests, int linkedDepth) {
  public static final StateConfig DEFAULT = new StateConfig(128, 4096, 4096, 4);

  public StateConfig {
    if (retainedVersions < 1 || retainedVersions > 1_000_000) {
      throw new IllegalArgumentException("state.retainedVersions must be between 1 and 1000000, got " + retainedVersions);
    }
    if (collectDeletesMax < 1 || collectDeletesMax > 1_000_000) {
      throw new IllegalArgumentException("state.collectDeletesMax must be between 1 and 1000000, got " + collectDeletesMax);
    }
    if (linkedDepth < 0 || linkedDepth > 6) {
      throw new IllegalArgumentException("state.linkedDepth must be between 0 and 6, got " + linkedDepth);
    }
    if (journalChunkDigests < 1 || journalChunkDigests > 100_000) {
      throw new IllegalArgumentException("state.journalChunkDigests must be between 1 and 100000, got " + journalChunkDigests);
    }
  }

  public StateConfig withRetainedVersions(int versions) {
    return new StateConfig(versions, collectDeletesMax, journalChunkDigests, linkedDepth);
  }

  public StateConfig withLinkedDepth(int depth) {
    return new StateConfig(retainedVersions, collectDeletesMax, journalChunkDigests, depth);
  }
}
