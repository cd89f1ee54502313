package dev.bulwark.server.raft;

import dev.bulwark.core.Digest;
import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.json.Json;
import dev.bulwark.core.json.JsonException;
import dev.bulwark.core.json.JsonReader;
import dev.bulwark.core.receipt.ReceiptJson;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.server.engine.BatchEntry;
import dev.bulwark.server.engine.EngineTables;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Online backups of a replica and restores from them.
 *
 * <p>A backup is a zip: {@code store/...}, a consistent checkpoint of the replica's store taken
 * between two applied batches (RocksDB hard-links its files, so the replica goes on serving),
 * then {@code manifest.json}, written last: the cluster and replica, the Raft log position
 * (index and term) and batch the checkpoint holds, its running state digest, the signed head of
 * that batch (as docs/receipts.md writes heads), the format versions, and the size and SHA-256
 * of every file. A backup cut short has no manifest and is refused.
 *
 * <p>A restore lays the checkpoint down as the Raft state-machine snapshot that the replica
 * loads when it starts, {@code data/raft/GROUP/sm/snapshot.TERM_INDEX/}, with the Raft term
 * recorded as the replica's current term, and no store and no log: at start the state machine
 * restores the store from the snapshot, and Ratis begins the log right after it. Replicas all
 * restored from one backup form a cluster again; one restored replica joining a living cluster
 * catches up from the leader by log entries or by a newer snapshot. Recording the term matters
 * for the first case: a Raft term lower than the snapshot's would let a replica that holds only
 * the snapshot win elections against replicas with newer entries.
 */
public final class Backups {
  private Backups() {}

  /** The manifest's format name; a restore refuses any other. */
  public static final String FORMAT = "bulwark.backup.v1";
  public static final String MANIFEST = "manifest.json";
  static final String STORE_PREFIX = "store/";
  private static final int FILES_MAX = 1_000_000;
  private static final String SCRATCH_PREFIX = "backup-";

  /** A file of the checkpoint: its name under {@code store/}, size and digest. */
  public record FileEntry(String name, long bytes, Digest sha256) {}

  /** What a backup holds: see the class comment. */
  public record Manifest(String cluster, String replica, long logIndex, long logTerm, long batchNumber,
      Digest stateDigest, SignedBatchHead head, int dataFormat, int entryFormat, long takenAtMs, List<FileEntry> files) {
    public Manifest {
      files = List.copyOf(files);
      if (head.head().batchNumber() != batchNumber) {
        throw new IllegalArgumentException("the manifest's head is of batch " + head.head().batchNumber()
            + ", not of its batch " + batchNumber);
      }
    }

    String toJson() {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("format", FORMAT);
      out.put("cluster", cluster);
      out.put("replica", replica);
      out.put("logIndex", logIndex);
      out.put("logTerm", logTerm);
      out.put("batchNumber", batchNumber);
      out.put("stateDigest", stateDigest.hex());
      out.put("dataFormat", (long) dataFormat);
      out.put("entryFormat", (long) entryFormat);
      out.put("takenAtMs", takenAtMs);
      out.put("head", Json.parse(ReceiptJson.write(head)));
      List<Object> list = new ArrayList<>();
      for (FileEntry f : files) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", f.name());
        m.put("bytes", f.bytes());
        m.put("sha256", f.sha256().hex());
        list.add(m);
      }
      out.put("files", list);
      return Json.write(out);
    }

    static Manifest fromJson(String text) {
      Object parsed = Json.parse(text);
      JsonReader doc = JsonReader.of("manifest", parsed);
      String format = doc.string("format");
      if (!FORMAT.equals(format)) {
        throw new DataFormat.IncompatibleFormatException("the backup's format is '" + format
            + "' but this build of bulwark reads '" + FORMAT + "' only");
      }
      int dataFormat = (int) doc.nonNegative("dataFormat");
      int entryFormat = (int) doc.nonNegative("entryFormat");
      if (dataFormat != DataFormat.VERSION || !BatchEntry.reads(entryFormat)) {
        throw new DataFormat.IncompatibleFormatException("the backup holds data format " + dataFormat
            + " and batch entry format " + entryFormat + " but this build of bulwark reads data format "
            + DataFormat.VERSION + " and batch entry formats " + BatchEntry.FORMAT_VERSION_OLDEST + " to "
            + BatchEntry.FORMAT_VERSION + " only");
      }
      SignedBatchHead head = ReceiptJson.readHead(Json.write(((Map<?, ?>) parsed).get("head")));
      List<FileEntry> files = new ArrayList<>();
      for (Object o : doc.array("files")) {
        JsonReader f = JsonReader.of("manifest.files[" + files.size() + "]", o);
        String name = f.string("name");
        if (!name.matches("[A-Za-z0-9._-]{1,255}")) {
          throw new JsonException("manifest.files: '" + name + "' is not a plain file name");
        }
        files.add(new FileEntry(name, f.nonNegative("bytes"), f.digest("sha256")));
      }
      return new Manifest(doc.string("cluster"), doc.string("replica"), doc.integer("logIndex"),
          doc.nonNegative("logTerm"), doc.integer("batchNumber"), doc.digest("stateDigest"), head, dataFormat,
          entryFormat, doc.nonNegative("takenAtMs"), files);
    }
  }

  /** A backup cannot be taken, read or restored; the message says why. */
  public static final class BackupException extends IOException {
    private static final long serialVersionUID = 1L;

    public BackupException(String message) {
      super(message);
    }
  }

  /**
   * A checkpoint of a running replica, taken and waiting to be written out; closing it deletes
   * the checkpoint. Taking it first lets a server answer an error before it starts a response.
   */
  public static final class Checkpoint implements AutoCloseable {
    private final Path scratch;
    private final String cluster;
    private final String replica;
    private final EngineTables.Applied mark;
    private final SignedBatchHead head;
    private final long takenAtMs;

    private Checkpoint(Path scratch, String cluster, String replica, EngineTables.Applied mark, SignedBatchHead head,
        long takenAtMs) {
      this.scratch = scratch;
      this.cluster = cluster;
      this.replica = replica;
      this.mark = mark;
      this.head = head;
      this.takenAtMs = takenAtMs;
    }

    public EngineTables.Applied mark() {
      return mark;
    }

    /** Streams the backup as a zip to {@code out} (which it does not close) and returns its manifest. */
    public Manifest writeZip(OutputStream out) throws IOException {
      Path store = scratch.resolve("store");
      List<Path> files;
      try (Stream<Path> list = Files.list(store)) {
        files = list.filter(Files::isRegularFile).sorted().toList();
      }
      List<FileEntry> entries = new ArrayList<>();
      ZipOutputStream zip = new ZipOutputStream(out, StandardCharsets.UTF_8);
      zip.setLevel(Deflater.BEST_SPEED);
      byte[] buffer = new byte[1 << 16];
      for (Path f : files) {
        zip.putNextEntry(new ZipEntry(STORE_PREFIX + f.getFileName()));
        MessageDigest sha = Digest.newSha256();
        long bytes = 0;
        try (InputStream in = Files.newInputStream(f)) {
          for (int n; (n = in.read(buffer)) > 0; ) {
            sha.update(buffer, 0, n);
            zip.write(buffer, 0, n);
            bytes += n;
          }
        }
        zip.closeEntry();
        entries.add(new FileEntry(f.getFileName().toString(), bytes, Digest.finish(sha)));
      }
      Manifest manifest = new Manifest(cluster, replica, mark.logIndex(), mark.logTerm(), mark.batchNumber(),
          mark.stateDigest(), head, DataFormat.VERSION, BatchEntry.FORMAT_VERSION, takenAtMs, entries);
      zip.putNextEntry(new ZipEntry(MANIFEST));
      zip.write(manifest.toJson().getBytes(StandardCharsets.UTF_8));
      zip.closeEntry();
      zip.finish();
      zip.flush();
      return manifest;
    }

    @Override
    public void close() throws IOException {
      dev.bulwark.store.FileTrees.delete(scratch);
    }
  }

  /**
   * Takes a consistent checkpoint of {@code server}'s store, beside it (hard links need the same
   * file system). Refused before the first batch: there is nothing to restore from yet. One at a
   * time per replica: it removes the checkpoints of earlier backups that were never closed.
   */
  public static Checkpoint take(ReplicaServer<?, ?> server, InstantSource clock) throws IOException {
    var replica = server.replica();
    Path storeDir = replica.objects().config().directory().toAbsolutePath();
    // Checkpoints left by a backup that a crash interrupted; callers take one backup at a time.
    try (Stream<Path> old = Files.list(storeDir.getParent())) {
      for (Path p : old.filter(p -> p.getFileName().toString().startsWith(SCRATCH_PREFIX)).toList()) {
        dev.bulwark.store.FileTrees.delete(p);
      }
    }
    Path scratch = Files.createTempDirectory(storeDir.getParent(), SCRATCH_PREFIX);
    try {
      EngineTables.Applied mark = replica.checkpoint(scratch.resolve("store"));
      if (mark.batchNumber() < 0) {
        throw new BackupException("replica " + server.id() + " has applied no batch yet: nothing to back up");
      }
      SignedBatchHead head = EngineTables.HEADS.get(replica.objects().store(), mark.batchNumber())
          .orElseThrow(() -> new IllegalStateException("applied batch " + mark.batchNumber() + " has no head"));
      return new Checkpoint(scratch, server.members().cluster(), server.id(), mark, head, clock.millis());
    } catch (IOException | RuntimeException e) {
      dev.bulwark.store.FileTrees.delete(scratch);
      throw e;
    }
  }

  /**
   * Reads and checks the backup in {@code zipFile}: its manifest (format, versions), the head's
   * signature under {@code operatorKey}, and every file's size and digest.
   */
  public static Manifest verify(Path zipFile, PublicKey operatorKey) throws IOException {
    try (ZipFile zip = new ZipFile(zipFile.toFile(), StandardCharsets.UTF_8)) {
      Manifest manifest = manifest(zip, zipFile);
      if (!manifest.head().verify(operatorKey)) {
        throw new BackupException(zipFile + ": the signature of the head of batch " + manifest.batchNumber()
            + " does not verify with the operator key " + operatorKey.fingerprint());
      }
      Set<String> listed = new HashSet<>();
      byte[] buffer = new byte[1 << 16];
      for (FileEntry f : manifest.files()) {
        listed.add(STORE_PREFIX + f.name());
        ZipEntry entry = zip.getEntry(STORE_PREFIX + f.name());
        if (entry == null) {
          throw new BackupException(zipFile + ": " + STORE_PREFIX + f.name() + " is listed in the manifest but missing");
        }
        MessageDigest sha = Digest.newSha256();
        long bytes = 0;
        try (InputStream in = zip.getInputStream(entry)) {
          for (int n; (n = in.read(buffer)) > 0; ) {
            sha.update(buffer, 0, n);
            bytes += n;
          }
        }
        if (bytes != f.bytes() || !Digest.finish(sha).equals(f.sha256())) {
          throw new BackupException(zipFile + ": " + STORE_PREFIX + f.name() + " does not match its size and digest "
              + "in the manifest");
        }
      }
      Enumeration<? extends ZipEntry> all = zip.entries();
      int count = 0;
      while (all.hasMoreElements() && count++ < FILES_MAX + 1) {
        String name = all.nextElement().getName();
        if (!name.equals(MANIFEST) && !listed.contains(name)) {
          throw new BackupException(zipFile + ": " + name + " is not listed in the manifest");
        }
      }
      return manifest;
    } catch (java.util.zip.ZipException e) {
      throw new BackupException(zipFile + " is not a readable zip (" + e.getMessage() + "): not a backup, or cut short");
    }
  }

  private static Manifest manifest(ZipFile zip, Path zipFile) throws IOException {
    ZipEntry entry = zip.getEntry(MANIFEST);
    if (entry == null) {
      throw new BackupException(zipFile + " has no " + MANIFEST + ": not a Bulwark backup, or it was cut short");
    }
    try (InputStream in = zip.getInputStream(entry)) {
      byte[] text = in.readNBytes(Json.LENGTH_MAX + 1);
      if (text.length > Json.LENGTH_MAX) {
        throw new BackupException(zipFile + ": " + MANIFEST + " is larger than " + Json.LENGTH_MAX + " bytes");
      }
      try {
        return Manifest.fromJson(new String(text, StandardCharsets.UTF_8));
      } catch (JsonException | IllegalArgumentException e) {
        if (e instanceof DataFormat.IncompatibleFormatException incompatible) {
          throw incompatible;
        }
        throw new BackupException(zipFile + ": " + MANIFEST + " is not valid: " + e.getMessage());
      }
    }
  }

  /**
   * Lays the backup in {@code zipFile} down as replica {@code replicaId}'s data directory
   * {@code dataDir} (which must not hold data yet), for the cluster {@code members}: see the
   * class comment. The backup is verified first; it must be of the same cluster.
   */
  public static Manifest restore(Path zipFile, PublicKey operatorKey, ReplicaServer.Members members, String replicaId,
      Path dataDir) throws IOException {
    if (!members.addresses().containsKey(replicaId)) {
      throw new BackupException("replica " + replicaId + " is not a member of " + members.addresses().keySet());
    }
    if (Files.exists(dataDir)) {
      try (Stream<Path> entries = Files.list(dataDir)) {
        if (entries.findAny().isPresent()) {
          throw new BackupException(dataDir + " already holds data: a restore builds a new data directory; move it "
              + "away first");
        }
      }
    }
    Manifest manifest = verify(zipFile, operatorKey);
    if (!manifest.cluster().equals(members.cluster())) {
      throw new BackupException(zipFile + " is a backup of cluster '" + manifest.cluster() + "', not of '"
          + members.cluster() + "'");
    }
    try {
      layDown(zipFile, manifest, members, dataDir);
    } catch (IOException | RuntimeException e) {
      // Half a data directory would start as an empty replica: leave none.
      dev.bulwark.store.FileTrees.delete(dataDir);
      throw e;
    }
    return manifest;
  }

  private static void layDown(Path zipFile, Manifest manifest, ReplicaServer.Members members, Path dataDir)
      throws IOException {
    Path group = dataDir.resolve("raft").resolve(members.groupId().getUuid().toString());
    Path sm = Files.createDirectories(group.resolve("sm"));
    Path scratch = Files.createTempDirectory(sm, CheckpointSnapshots.SCRATCH_PREFIX);
    Path store = Files.createDirectories(scratch.resolve(CheckpointSnapshots.STORE));
    try (ZipFile zip = new ZipFile(zipFile.toFile(), StandardCharsets.UTF_8)) {
      for (FileEntry f : manifest.files()) {
        try (InputStream in = zip.getInputStream(zip.getEntry(STORE_PREFIX + f.name()))) {
          Files.copy(in, store.resolve(f.name()));
        }
      }
    }
    Files.writeString(scratch.resolve(CheckpointSnapshots.BATCH_LOG_INDEX), Long.toString(manifest.logIndex()),
        StandardCharsets.US_ASCII);
    Files.move(scratch, sm.resolve(CheckpointSnapshots.directoryName(manifest.logTerm(), manifest.logIndex())),
        StandardCopyOption.ATOMIC_MOVE);
    // Ratis' metadata file (java.util.Properties, "term" and "votedFor"): see the class comment.
    Path current = Files.createDirectories(group.resolve("current"));
    Files.writeString(current.resolve("raft-meta"), "term=" + manifest.logTerm() + "\nvotedFor=\n",
        StandardCharsets.ISO_8859_1);
    DataFormat.write(dataDir);
  }
}
