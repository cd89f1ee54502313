package dev.bulwark.server.raft;

import dev.bulwark.store.FileTrees;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;

/**
 * Raft snapshots as store checkpoints: {@code sm/snapshot.<term>_<index>/} holds a checkpoint of
 * the replica's store ({@code store/}) and the log index of the last batch it holds
 * ({@code batch-log-index}). Ratis ships these files to a follower that fell behind its purged
 * log, replacing the follower's {@code sm/} directory, and the follower restores its store from
 * them. A snapshot directory appears by an atomic rename, so a crash never leaves half of one.
 */
final class CheckpointSnapshots implements StateMachineStorage {
  private static final Pattern NAME = Pattern.compile("snapshot\\.(\\d+)_(\\d+)");
  static final String STORE = "store";
  static final String BATCH_LOG_INDEX = "batch-log-index";
  /** What a scratch directory's name starts with: such a directory is never a snapshot. */
  static final String SCRATCH_PREFIX = "incomplete-";

  private volatile Path directory;
  private volatile FileListSnapshotInfo latest;
  /** Scratch directories being written now (a checkpoint runs beside the applies): not abandoned. */
  private final java.util.Set<Path> inUse = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @Override
  public void init(RaftStorage storage) throws IOException {
    init(storage.getStorageDir().getStateMachineDir().toPath());
  }

  /** Uses {@code stateMachineDir} (Ratis' {@code sm/}), creating it if missing. */
  void init(Path stateMachineDir) throws IOException {
    directory = stateMachineDir;
    Files.createDirectories(directory);
    rescan();
  }

  /** Finds the newest complete snapshot again (after a restart, or after one was installed). */
  synchronized FileListSnapshotInfo rescan() throws IOException {
    latest = null;
    Optional<Path> newest = newestIn(snapshotDirs(directory));
    if (newest.isPresent()) {
      TermIndex ti = termIndex(newest.get());
      latest = new FileListSnapshotInfo(files(newest.get()), ti.getTerm(), ti.getIndex());
    }
    return latest;
  }

  /**
   * The newest complete snapshot of a replica whose Raft directory is {@code raftDir}, for
   * readers from outside (tests, tools); scratch directories of checkpoints under way are not
   * snapshots.
   */
  static Optional<Path> newestUnder(Path raftDir) throws IOException {
    List<Path> all = new ArrayList<>();
    try (Stream<Path> groups = Files.list(raftDir)) {
      for (Path sm : groups.map(g -> g.resolve("sm")).filter(Files::isDirectory).toList()) {
        all.addAll(snapshotDirs(sm));
      }
    }
    return newestIn(all);
  }

  private static Optional<Path> newestIn(List<Path> snapshotDirs) {
    return snapshotDirs.stream().max(Comparator.comparing(CheckpointSnapshots::termIndex));
  }

  private static List<Path> snapshotDirs(Path directory) throws IOException {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> entries = Files.list(directory)) {
      for (Path p : entries.toList()) {
        if (Files.isDirectory(p) && NAME.matcher(p.getFileName().toString()).matches()) {
          out.add(p);
        }
      }
    }
    return out;
  }

  /** The term and index a snapshot directory is named for. */
  static TermIndex termIndex(Path snapshotDir) {
    Matcher m = NAME.matcher(snapshotDir.getFileName().toString());
    if (!m.matches()) {
      throw new IllegalArgumentException("not a snapshot directory: " + snapshotDir);
    }
    return TermIndex.valueOf(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
  }

  private static List<FileInfo> files(Path snapshotDir) throws IOException {
    List<FileInfo> out = new ArrayList<>();
    try (Stream<Path> paths = Files.walk(snapshotDir)) {
      for (Path p : paths.filter(Files::isRegularFile).sorted().toList()) {
        out.add(new FileInfo(p, null));
      }
    }
    return out;
  }

  /** The bytes of a snapshot's files. */
  static long bytes(Path snapshotDir) throws IOException {
    try (Stream<Path> paths = Files.walk(snapshotDir)) {
      return paths.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  /** The directory a new snapshot at {@code ti} gets, once complete. */
  Path directoryFor(TermIndex ti) {
    return directory.resolve(directoryName(ti.getTerm(), ti.getIndex()));
  }

  /** The name of a snapshot's directory inside {@code sm/}, as {@link #termIndex} reads it back. */
  static String directoryName(long term, long index) {
    return "snapshot." + term + "_" + index;
  }

  /**
   * A fresh scratch directory inside {@code sm/}, renamed into place when the snapshot is whole.
   * Its name is marked in use before the directory exists: the cleanup of abandoned scratch
   * directories runs on Ratis' thread beside the checkpoint's, and once deleted a directory
   * between its creation and its marking (a chaos run caught that: the checkpoint then failed).
   */
  Path scratch() throws IOException {
    for (int attempt = 0; attempt < 16; attempt++) {
      Path scratch = directory.resolve(SCRATCH_PREFIX + Long.toUnsignedString(java.util.concurrent.ThreadLocalRandom.current().nextLong()));
      if (inUse.add(scratch)) {
        try {
          return Files.createDirectory(scratch);
        } catch (java.nio.file.FileAlreadyExistsException taken) {
          inUse.remove(scratch); // left by an earlier process: the cleanup removes it
        } catch (IOException | RuntimeException e) {
          inUse.remove(scratch);
          throw e;
        }
      }
    }
    throw new IOException("no free scratch directory name in " + directory);
  }

  /** Publishes a complete snapshot written into {@code scratch}. */
  synchronized FileListSnapshotInfo publish(Path scratch, TermIndex ti, long batchLogIndex) throws IOException {
    Files.writeString(scratch.resolve(BATCH_LOG_INDEX), Long.toString(batchLogIndex), StandardCharsets.US_ASCII);
    Files.move(scratch, directoryFor(ti), StandardCopyOption.ATOMIC_MOVE);
    inUse.remove(scratch);
    return rescan();
  }

  /** Removes a scratch directory whose snapshot was not published. */
  void discard(Path scratch) throws IOException {
    try {
      FileTrees.delete(scratch);
    } finally {
      inUse.remove(scratch);
    }
  }

  static long batchLogIndex(Path snapshotDir) throws IOException {
    return Long.parseLong(Files.readString(snapshotDir.resolve(BATCH_LOG_INDEX), StandardCharsets.US_ASCII).strip());
  }

  /** The directory of the latest snapshot, if there is one. */
  Optional<Path> latestDirectory() {
    FileListSnapshotInfo l = latest;
    return l == null ? Optional.empty() : Optional.of(directoryFor(l.getTermIndex()));
  }

  @Override
  public SnapshotInfo getLatestSnapshot() {
    return latest;
  }

  @Override
  public void format() throws IOException {
    // A new replica starts empty; nothing to format.
  }

  /**
   * Keeps the newest {@code keep} snapshots and removes older ones and abandoned scratch
   * directories (left by a crash), not the one a checkpoint is being written into.
   */
  synchronized void retain(int keep) throws IOException {
    List<Path> dirs = snapshotDirs(directory);
    dirs.sort(Comparator.comparing(CheckpointSnapshots::termIndex).reversed());
    for (int i = keep; i < dirs.size(); i++) {
      FileTrees.delete(dirs.get(i));
    }
    try (Stream<Path> entries = Files.list(directory)) {
      for (Path p : entries.toList()) {
        if (p.getFileName().toString().startsWith(SCRATCH_PREFIX) && !inUse.contains(p)) {
          FileTrees.delete(p);
        }
      }
    }
  }

  @Override
  public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
    retain(Math.max(1, policy.getNumSnapshotsRetained()));
  }

  @Override
  public File getSnapshotDir() {
    return directory.toFile();
  }
}
