package dev.bulwark.server.raft;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.server.engine.EngineConfig;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A manual harness for measuring a leader's heap while it sends a large snapshot (docs/chaos.md,
 * "Snapshot sends and the leader's heap"), with each replica in its own JVM as in production.
 *
 * <p>{@code fill DIR PORT0,PORT1,PORT2 MEGABYTES} runs r0 and r1 of the three-member cluster in
 * this JVM, stores that many MB of blobs, and stops once both have taken a snapshot and purged
 * their logs past r2, which never ran. {@code replica DIR PORT0,PORT1,PORT2 ID} then runs one
 * replica and prints its status every second: started last, r2 can only catch up by snapshot.
 */
public final class SnapshotSendMain {
  static final SigningKey OPERATOR = SigningKey.generate(new SplittableRandom(41));
  /** Elections from {@code -Dsnap.electionMs} (default 300) to twice that: a loaded machine needs more. */
  static final RaftSettings RAFT = raftSettings(Long.getLong("snap.electionMs", 300));
  static final int BLOB_BYTES = 256 << 10;

  private SnapshotSendMain() {}

  private static RaftSettings raftSettings(long electionMs) {
    var d = RaftSettings.DEFAULT;
    return new RaftSettings(java.time.Duration.ofMillis(electionMs), java.time.Duration.ofMillis(2 * electionMs),
        d.peerRequestTimeout(), d.entryBytesMax(), 16, 8L << 20, d.tls()).purgingPastLaggingFollowers();
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[1]);
    String[] ports = args[2].split(",");
    Map<String, String> addresses = new LinkedHashMap<>();
    for (int i = 0; i < ports.length; i++) {
      addresses.put("r" + i, "127.0.0.1:" + ports[i]);
    }
    var members = new ReplicaServer.Members("snap", addresses);
    switch (args[0]) {
      case "fill" -> fill(dir, members, Long.parseLong(args[3]));
      case "replica" -> replica(dir, members, args[3]);
      default -> throw new IllegalArgumentException("fill or replica, not " + args[0]);
    }
  }

  private static ReplicaServer<BlobApp.Put, Integer> start(String id, ReplicaServer.Members members, Path dir) {
    return ReplicaServer.start(id, members, dir.resolve(id), new BlobApp(), EngineConfig.defaults("snap"), RAFT, OPERATOR,
        InstantSource.system());
  }

  private static void fill(Path dir, ReplicaServer.Members members, long megabytes) throws Exception {
    List<ReplicaServer<BlobApp.Put, Integer>> replicas = List.of(start("r0", members, dir), start("r1", members, dir));
    long blobs = (megabytes << 20) / BLOB_BYTES;
    AtomicLong next = new AtomicLong();
    List<Thread> writers = new ArrayList<>();
    for (int w = 0; w < 16; w++) {
      Bytes client = Bytes.utf8("writer-" + w);
      writers.add(Thread.ofPlatform().start(() -> {
        long seq = 1;
        for (long b = next.getAndIncrement(); b < blobs; b = next.getAndIncrement()) {
          var put = new BlobApp.Put("blob-" + b, BLOB_BYTES, b);
          submit(replicas, new ClientRequest(client, seq++, BlobApp.PUT.encode(put)));
        }
      }));
    }
    for (Thread t : writers) {
      t.join(TimeUnit.MINUTES.toMillis(10));
    }
    for (int i = 0; i < 600 && replicas.stream().anyMatch(r -> r.raftLogStartIndex() == 0); i++) {
      Thread.sleep(100);
    }
    for (var r : replicas) {
      System.out.printf("%s: batch %d, log starts at %d, snapshot %s%n", r.id(), r.replica().applied().batchNumber(),
          r.raftLogStartIndex(), latestSnapshotBytes(dir.resolve(r.id())));
      r.close();
    }
  }

  private static void submit(List<ReplicaServer<BlobApp.Put, Integer>> replicas, ClientRequest request) {
    for (int attempt = 0; attempt < 1000; attempt++) {
      for (var r : replicas) {
        if (r.isSequencing()) {
          try {
            if (r.submit(request).get(60, TimeUnit.SECONDS) instanceof Outcome.Confirmed) {
              return;
            }
          } catch (Exception e) {
            // retry the same (client, sequence): the session makes it safe
          }
        }
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new IllegalStateException("not confirmed: " + request);
  }

  private static String latestSnapshotBytes(Path replicaDir) throws Exception {
    var latest = CheckpointSnapshots.newestUnder(replicaDir.resolve("raft"));
    return latest.isEmpty() ? "none"
        : latest.get().getFileName() + " " + (CheckpointSnapshots.bytes(latest.get()) >> 20) + " MiB";
  }

  private static void replica(Path dir, ReplicaServer.Members members, String id) throws Exception {
    var replica = start(id, members, dir);
    for (long second = 0; second < 3600; second++) {
      var status = replica.status();
      System.out.printf("%d %s role=%s batch=%d commit=%d logStart=%d%n", System.currentTimeMillis(), id, status.role(),
          replica.replica().applied().batchNumber(), status.commitIndex(), replica.raftLogStartIndex());
      System.out.flush();
      Thread.sleep(1000);
    }
    replica.close();
  }
}
