package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.app.StateMirror;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.server.engine.EngineConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A snapshot of tens of MB reaches a follower the leader purged its log past, in many of the
 * small chunks a replica sends (see {@link RaftPropertiesTest} for why they are small), and the
 * follower ends with the leader's state. {@link RaftClusterTest} covers the same path with a
 * snapshot that fits in one chunk. A follower whose next entry is exactly the first of the
 * leader's log, the one before it purged, gets the snapshot too.
 */
class SnapshotSendTest {
  @TempDir
  Path dir;

  static final SigningKey OPERATOR = SigningKey.generate(new SplittableRandom(31));
  static final int BLOBS = 64;
  static final int BLOB_BYTES = 256 << 10;
  final BlobApp app = new BlobApp();
  RaftSettings raft = RaftSettings.DEFAULT.withSnapshots(8, 4L << 20).purgingPastLaggingFollowers();
  final Map<String, ReplicaServer<BlobApp.Put, Integer>> replicas = new ConcurrentHashMap<>();
  ReplicaServer.Members members;

  void start(String id) {
    replicas.put(id, ReplicaServer.start(id, members, dir.resolve(id), app, EngineConfig.defaults("snap-test"), raft,
        OPERATOR, InstantSource.system()));
  }

  @AfterEach
  void closeAll() throws InterruptedException {
    List<Thread> closing = new ArrayList<>();
    for (var r : replicas.values()) {
      closing.add(Thread.ofPlatform().start(r::close));
    }
    for (Thread t : closing) {
      t.join(60_000);
    }
    replicas.clear();
  }

  ReplicaServer<BlobApp.Put, Integer> awaitLeader() throws InterruptedException {
    for (int i = 0; i < 1500; i++) {
      for (var r : replicas.values()) {
        if (r.isSequencing()) {
          return r;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no leader within 30 s");
  }

  /** Sends a request to whoever leads, retrying the same (client, sequence) until it is confirmed. */
  void put(Bytes client, long sequence, BlobApp.Put put) throws Exception {
    ClientRequest request = new ClientRequest(client, sequence, BlobApp.PUT.encode(put));
    for (int attempt = 0; attempt < 600; attempt++) {
      Outcome outcome = awaitLeader().submit(request).get(30, TimeUnit.SECONDS);
      if (outcome instanceof Outcome.Confirmed) {
        return;
      }
      assertThat(outcome).as("outcome of %s", put.key()).isNotInstanceOf(Outcome.Rejected.class);
      Thread.sleep(20);
    }
    throw new AssertionError("no confirmation for " + put.key());
  }

  @Test
  void aFollowerInstallsASnapshotOfManyChunksAndEndsWithTheLeadersState() throws Exception {
    Map<String, String> addresses = new LinkedHashMap<>();
    for (int i = 0; i < 3; i++) {
      addresses.put("r" + i, "127.0.0.1:" + InProcessCluster.freeLoopbackPort());
    }
    members = new ReplicaServer.Members("snap", addresses);
    addresses.keySet().forEach(this::start);
    var leader = awaitLeader();
    String follower = addresses.keySet().stream().filter(id -> !id.equals(leader.id())).findFirst().orElseThrow();
    var stopped = replicas.remove(follower);
    long followerCommit = stopped.status().commitIndex();
    stopped.close();

    // Four writers, so that batches carry several blobs.
    AtomicInteger next = new AtomicInteger();
    List<Thread> writers = new ArrayList<>();
    List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (int w = 0; w < 4; w++) {
      Bytes client = Bytes.utf8("writer-" + w);
      writers.add(Thread.ofPlatform().start(() -> {
        long sequence = 1;
        try {
          for (int b = next.getAndIncrement(); b < BLOBS; b = next.getAndIncrement()) {
            put(client, sequence++, new BlobApp.Put("blob-" + b, BLOB_BYTES, b));
          }
        } catch (Throwable t) {
          failures.add(t);
        }
      }));
    }
    for (Thread t : writers) {
      t.join(TimeUnit.MINUTES.toMillis(2));
    }
    assertThat(failures).isEmpty();

    var now = awaitLeader();
    for (int i = 0; i < 500 && now.raftLogStartIndex() <= followerCommit + 1; i++) {
      Thread.sleep(20);
    }
    assertThat(now.raftLogStartIndex()).as("the leader purged its log past the stopped follower")
        .isGreaterThan(followerCommit + 1);
    long chunkBytes = RaftServerConfigKeys.Log.Appender.snapshotChunkSizeMax(
        ReplicaServer.properties(dir, 0, raft)).getSize();
    assertThat(latestSnapshotBytes(dir.resolve(now.id()))).as("the leader's snapshot, in bytes")
        .isGreaterThan(16 * chunkBytes);

    start(follower);
    var restarted = replicas.get(follower);
    assertCaughtUp(restarted, now);
    var store = restarted.replica().objects().store();
    for (int b : new int[] {0, BLOBS / 2, BLOBS - 1}) {
      byte[] expected = new byte[BLOB_BYTES];
      new SplittableRandom(b).nextBytes(expected);
      assertThat(StateMirror.get(store, BlobApp.BLOBS, "blob-" + b).orElseThrow()).isEqualTo(Bytes.adopt(expected));
    }
  }

  /**
   * A follower stopped once everything was committed, then leadership moves: a new term begins
   * right after the follower's commit index, and since a log segment ends at every change of term,
   * the new leader's next purge (up to what every follower has committed) ends exactly there. The
   * returning follower then needs the entries from the very start of the leader's log, and the
   * one before them is gone. Ratis 3.2.0's appender fails building that append and ends; the
   * leader's appender sends heartbeats instead, and the snapshot once the follower answers, and
   * the follower catches up under the same leader ({@link BoundedStopGrpc#previousLostAtLogStart}).
   */
  @Test
  void aFollowerThatNeedsTheEntriesFromTheVeryStartOfTheLeadersLogIsSentTheSnapshot() throws Exception {
    // Purged only up to what every follower has committed; a purge must pass Ratis' gap of 64
    // entries, and no snapshot (so no purge) comes before 128. Elections take seconds, so that
    // leadership moves only when the test moves it.
    raft = new RaftSettings(Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(2), 32 << 20, 128,
        4L << 20, Optional.empty());
    ListAppender<ILoggingEvent> seen = new ListAppender<>();
    seen.start();
    Logger appenderDaemon = (Logger) LoggerFactory.getLogger("org.apache.ratis.server.leader.LogAppenderDaemon");
    Logger appenders = (Logger) LoggerFactory.getLogger(BoundedStopGrpc.class);
    Level daemonLevel = appenderDaemon.getLevel();
    appenderDaemon.setLevel(Level.WARN); // where Ratis says an appender failed
    appenderDaemon.addAppender(seen);
    appenders.addAppender(seen);
    try {
      Map<String, String> addresses = new LinkedHashMap<>();
      for (int i = 0; i < 3; i++) {
        addresses.put("r" + i, "127.0.0.1:" + InProcessCluster.freeLoopbackPort());
      }
      members = new ReplicaServer.Members("log-start", addresses);
      addresses.keySet().forEach(this::start);
      String group = members.groupId().toString();
      Bytes client = Bytes.utf8("writer");
      long sequence = 1;
      while (awaitLeader().status().commitIndex() < 72 && sequence < 200) {
        put(client, sequence, new BlobApp.Put("blob-" + sequence, 64, sequence));
        sequence++;
      }
      var first = awaitLeader();
      awaitCommitsSettled();
      String followerId = addresses.keySet().stream().filter(id -> !id.equals(first.id())).findFirst().orElseThrow();
      String successorId = addresses.keySet().stream().filter(id -> !id.equals(first.id()) && !id.equals(followerId))
          .findFirst().orElseThrow();
      var successor = replicas.get(successorId);
      long followerCommit = replicas.get(followerId).status().commitIndex();
      // The new leader will purge up to what it knows the follower has committed: the old
      // leader's heartbeats tell it.
      for (int i = 0; i < 500 && successor.knownCommitIndexOf(followerId) < followerCommit; i++) {
        Thread.sleep(20);
      }
      assertThat(successor.knownCommitIndexOf(followerId)).as("what %s knows %s has committed", successorId, followerId)
          .isEqualTo(followerCommit);
      assertThat(first.raftLogStartIndex()).as("nothing purged before the follower stopped").isZero();
      replicas.remove(followerId).close();

      first.transferLeadership(successorId, 20_000);
      for (int i = 0; i < 600 && successor.raftLogStartIndex() <= followerCommit; i++) {
        put(client, sequence, new BlobApp.Put("blob-" + sequence, 64, sequence));
        sequence++;
      }
      assertThat(successor.isSequencing()).as("%s leads", successorId).isTrue();
      assertThat(successor.raftLogStartIndex()).as("the new leader's log starts right after the stopped follower's commit index")
          .isEqualTo(followerCommit + 1);
      long term = successor.status().term();

      start(followerId);
      assertCaughtUp(replicas.get(followerId), successor);
      assertThat(successor.isLeader() && successor.status().term() == term)
          .as("the follower caught up under the same leader, in the same term").isTrue();
      List<ILoggingEvent> events;
      synchronized (seen) {
        events = new ArrayList<>(seen.list);
      }
      assertThat(events.stream().filter(e -> e.getThrowableProxy() != null
          && e.getThrowableProxy().getMessage() != null
          && e.getThrowableProxy().getMessage().contains(group)
          && e.getThrowableProxy().getMessage().contains("Previous TermIndex not found")).map(ILoggingEvent::getFormattedMessage))
          .as("appenders that failed for lack of the entry before the log's start").isEmpty();
      assertThat(events.stream().map(ILoggingEvent::getFormattedMessage)
          .filter(m -> m.contains(group) && m.contains("->" + followerId) && m.contains("sending it the snapshot")))
          .as("the leader's word that it sent the snapshot instead").isNotEmpty();
    } finally {
      appenderDaemon.detachAppender(seen);
      appenders.detachAppender(seen);
      appenderDaemon.setLevel(daemonLevel);
    }
  }

  /** Waits (up to 60 s) for {@code follower} to apply what {@code leader} has applied now, and checks it has the same state. */
  private static void assertCaughtUp(ReplicaServer<BlobApp.Put, Integer> follower, ReplicaServer<BlobApp.Put, Integer> leader)
      throws InterruptedException {
    var reference = leader.replica().applied();
    for (int i = 0; i < 3000 && follower.replica().applied().batchNumber() < reference.batchNumber(); i++) {
      Thread.sleep(20);
    }
    assertThat(follower.replica().applied().batchNumber()).isEqualTo(reference.batchNumber());
    assertThat(follower.replica().applied().stateDigest()).isEqualTo(reference.stateDigest());
  }

  /** Waits until every replica has committed the same last index, twice in a row 300 ms apart. */
  private void awaitCommitsSettled() throws InterruptedException {
    List<Long> previous = List.of();
    for (int i = 0; i < 100; i++) {
      List<Long> commits = replicas.values().stream().map(r -> r.status().commitIndex()).toList();
      if (commits.equals(previous) && commits.stream().distinct().count() == 1) {
        return;
      }
      previous = commits;
      Thread.sleep(300);
    }
    throw new AssertionError("the replicas' commit indexes did not settle: " + previous);
  }

  /** The size of the files of a replica's newest snapshot ({@code snapshot.<term>_<index>}). */
  private static long latestSnapshotBytes(Path replicaDir) throws IOException {
    return CheckpointSnapshots.bytes(CheckpointSnapshots.newestUnder(replicaDir.resolve("raft")).orElseThrow());
  }
}
