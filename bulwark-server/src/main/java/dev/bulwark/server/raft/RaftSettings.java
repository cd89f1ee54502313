package dev.bulwark.server.raft;

import dev.bulwark.server.engine.BatchEntry;
import java.time.Duration;

/**
 * The Raft (Ratis) limits of a replica, validated in one place.
 *
 * @param electionTimeoutMin a follower that hears no leader for a random time in [min, max] starts an election
 * @param electionTimeoutMax ... and a leader that hears no majority for max steps down
 * @param peerRequestTimeout one replica-to-replica call (append entries, snapshot chunk); a
 *     snapshot chunk must be answered within twice this, and a leader sending a snapshot keeps
 *     what it sent in that time in heap (Ratis 3.2.0), so raising it raises that too
 * @param entryBytesMax the largest batch entry; larger batches are refused before they reach
 *     Raft (an oversized entry would make the leader step down)
 * @param snapshotEveryEntries a snapshot (a store checkpoint) is taken every this many log
 *     entries, and the log is purged behind it as far as every follower has committed, so
 *     disk stays bounded while the members are up
 * @param logSegmentBytes the size at which a log segment closes; only closed segments are purged
 * @param tls mutual TLS between replicas (and for admin calls), or empty for plaintext on a trusted network
 * @param purgePastLaggingFollowers whether a snapshot purges the log up to itself even when a
 *     follower (down, or behind) still needs those entries, which it then gets as a snapshot
 *     instead; false (the default) keeps them, so a restarted follower catches up from the log:
 *     Ratis 3.2.0 can deadlock when a leader steps down while sending a snapshot (see
 *     docs/chaos.md), and the log grows only while a member is down or behind
 * @param electOnLeaderExit whether a follower whose leader's process is gone (a peer's connection
 *     closed and the leader's Raft port refuses connections) starts an election at once rather
 *     than after the election timeout ({@link LeaderExitWatch}); true by default
 * @param entryFormat the batch entry format this replica writes when it leads: the current one
 *     ({@link BatchEntry#FORMAT_VERSION}) by default, or an older one this build still reads
 *     while replicas of an older build that reads only that one are still running (a rolling
 *     upgrade; docs/operations.md)
 */
public record RaftSettings(Duration electionTimeoutMin, Duration electionTimeoutMax, Duration peerRequestTimeout,
    int entryBytesMax, long snapshotEveryEntries, long logSegmentBytes, java.util.Optional<Tls> tls,
    boolean purgePastLaggingFollowers, boolean electOnLeaderExit, int entryFormat) {
  /** Elections in 0.3 to 0.6 s (failover in about a second on loopback), entries up to 32 MiB, no TLS. */
  public static final RaftSettings DEFAULT = new RaftSettings(Duration.ofMillis(300), Duration.ofMillis(600),
      Duration.ofSeconds(2), 32 << 20, 1024, 8L << 20, java.util.Optional.empty(), false, true, BatchEntry.FORMAT_VERSION);

  /** As the canonical constructor, keeping the log for lagging followers and electing at once when the leader exits. */
  public RaftSettings(Duration electionTimeoutMin, Duration electionTimeoutMax, Duration peerRequestTimeout,
      int entryBytesMax, long snapshotEveryEntries, long logSegmentBytes, java.util.Optional<Tls> tls) {
    this(electionTimeoutMin, electionTimeoutMax, peerRequestTimeout, entryBytesMax, snapshotEveryEntries, logSegmentBytes,
        tls, false, true, BatchEntry.FORMAT_VERSION);
  }

  /** This replica's certificate and key (PKCS#8 PEM) and the cluster CA that every peer must be issued by. */
  public record Tls(java.nio.file.Path certificate, java.nio.file.Path privateKey, java.nio.file.Path ca) {}

  public RaftSettings withSnapshots(long everyEntries, long segmentBytes) {
    return new RaftSettings(electionTimeoutMin, electionTimeoutMax, peerRequestTimeout, entryBytesMax, everyEntries,
        segmentBytes, tls, purgePastLaggingFollowers, electOnLeaderExit, entryFormat);
  }

  /** These settings with the log purged up to each snapshot, even past lagging followers. */
  public RaftSettings purgingPastLaggingFollowers() {
    return new RaftSettings(electionTimeoutMin, electionTimeoutMax, peerRequestTimeout, entryBytesMax, snapshotEveryEntries,
        logSegmentBytes, tls, true, electOnLeaderExit, entryFormat);
  }

  public RaftSettings withTls(Tls material) {
    return new RaftSettings(electionTimeoutMin, electionTimeoutMax, peerRequestTimeout, entryBytesMax, snapshotEveryEntries,
        logSegmentBytes, java.util.Optional.of(material), purgePastLaggingFollowers, electOnLeaderExit, entryFormat);
  }

  /** These settings with or without an election at once when the leader's process is gone ({@link LeaderExitWatch}). */
  public RaftSettings electingOnLeaderExit(boolean elect) {
    return new RaftSettings(electionTimeoutMin, electionTimeoutMax, peerRequestTimeout, entryBytesMax, snapshotEveryEntries,
        logSegmentBytes, tls, purgePastLaggingFollowers, elect, entryFormat);
  }

  /** These settings writing batch entries in {@code format} (see {@link #entryFormat}). */
  public RaftSettings writingEntryFormat(int format) {
    return new RaftSettings(electionTimeoutMin, electionTimeoutMax, peerRequestTimeout, entryBytesMax, snapshotEveryEntries,
        logSegmentBytes, tls, purgePastLaggingFollowers, electOnLeaderExit, format);
  }

  /** Ratis parameters carrying the TLS configuration, for servers and clients alike. */
  org.apache.ratis.conf.Parameters parameters() {
    org.apache.ratis.conf.Parameters parameters = new org.apache.ratis.conf.Parameters();
    tls.ifPresent(t -> org.apache.ratis.grpc.GrpcConfigKeys.TLS.setConf(parameters, new org.apache.ratis.grpc.GrpcTlsConfig(
        t.privateKey().toFile(), t.certificate().toFile(), t.ca().toFile(), true)));
    return parameters;
  }

  public RaftSettings {
    if (electionTimeoutMin.toMillis() < 50 || electionTimeoutMax.compareTo(electionTimeoutMin) <= 0) {
      throw new IllegalArgumentException("raft.electionTimeoutMin must be at least 50 ms and below raft.electionTimeoutMax: "
          + electionTimeoutMin + ", " + electionTimeoutMax);
    }
    if (peerRequestTimeout.toMillis() < 100) {
      throw new IllegalArgumentException("raft.peerRequestTimeout must be at least 100 ms, got " + peerRequestTimeout);
    }
    if (entryBytesMax < (1 << 20) || entryBytesMax > (512 << 20)) {
      throw new IllegalArgumentException("raft.entryBytesMax must be between 1 MiB and 512 MiB, got " + entryBytesMax);
    }
    if (snapshotEveryEntries < 2) {
      throw new IllegalArgumentException("raft.snapshotEveryEntries must be at least 2, got " + snapshotEveryEntries);
    }
    java.util.Objects.requireNonNull(tls, "raft.tls must be set (possibly empty)");
    if (logSegmentBytes < (16 << 10) || logSegmentBytes > (1L << 30)) {
      throw new IllegalArgumentException("raft.logSegmentBytes must be between 16 KiB and 1 GiB, got " + logSegmentBytes);
    }
    if (!BatchEntry.reads(entryFormat)) {
      throw new IllegalArgumentException("raft.entryFormat must be between " + BatchEntry.FORMAT_VERSION_OLDEST + " and "
          + BatchEntry.FORMAT_VERSION + ", got " + entryFormat);
    }
  }
}
