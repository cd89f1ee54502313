package dev.bulwark.server.raft;

import dev.bulwark.core.app.Application;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.server.engine.EngineConfig;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.server.engine.Replica;
import dev.bulwark.server.engine.Sequencer;
import dev.bulwark.store.Durability;
import dev.bulwark.store.StoreConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replica of a Bulwark cluster: its store, its Raft server, and, while it leads, its
 * sequencer. Ratis elects the leader; when this replica becomes leader and has applied every
 * earlier entry ({@code notifyLeaderReady}) it starts a sequencer on its committed state, and
 * when it stops leading it stops the sequencer: queued requests are answered "not committed",
 * batches already in Raft "outcome unknown". A replica that does not lead answers
 * {@link Outcome.NotLeader} with the leader's id.
 */
public final class ReplicaServer<Q, R> implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReplicaServer.class);

  /**
   * Where a cluster's replicas are: id -> host:port of their Raft endpoints, in a fixed order,
   * and, where known, id -> host:port of their client listeners. The client endpoints travel in
   * the Raft configuration, so that after a membership change every replica can tell clients
   * where the current members listen. They ride in each peer's data-stream address, a field
   * Ratis only reads for its data streams, which Bulwark does not use; not in its client
   * address, which Ratis' own clients (membership changes, leadership transfers) would dial.
   */
  public record Members(String cluster, Map<String, String> addresses, Map<String, String> clientAddresses) {
    public Members {
      Objects.requireNonNull(cluster);
      addresses = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(addresses));
      clientAddresses = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(clientAddresses));
      if (addresses.isEmpty()) {
        throw new IllegalArgumentException("a cluster has at least one replica");
      }
      if (!addresses.keySet().containsAll(clientAddresses.keySet())) {
        throw new IllegalArgumentException("client endpoints " + clientAddresses.keySet() + " name replicas that are not among "
            + addresses.keySet());
      }
    }

    /** Members whose client endpoints are not known. */
    public Members(String cluster, Map<String, String> addresses) {
      this(cluster, addresses, Map.of());
    }

    RaftGroupId groupId() {
      return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(("bulwark/" + cluster).getBytes(StandardCharsets.UTF_8)));
    }

    RaftGroup group() {
      List<RaftPeer> peers = new ArrayList<>();
      addresses.forEach((id, address) -> {
        RaftPeer.Builder peer = RaftPeer.newBuilder().setId(id).setAddress(address);
        String client = clientAddresses.get(id);
        if (client != null) {
          peer.setDataStreamAddress(client);
        }
        peers.add(peer.build());
      });
      return RaftGroup.valueOf(groupId(), peers);
    }
  }

  private final String id;
  private final Members members;
  private final Application<Q, R> app;
  private final EngineConfig config;
  private final RaftSettings raft;
  private final SigningKey operatorKey;
  private final InstantSource clock;
  private final Replica replica;
  private final RaftServer server;
  /** Starts an election when the leader's process is gone; null when the settings turn it off. */
  private final LeaderExitWatch leaderExitWatch;
  /** Followers this replica's appenders, while it leads, send a snapshot for a purged previous entry. */
  private final SnapshotBoundFollowers snapshotBound;
  private final Object leadershipLock = new Object();
  private volatile Sequencer<Q, R> sequencer;
  private volatile String leaderId;
  private final List<Thread> stoppers = new ArrayList<>();
  private final Thread raftWatch;

  private ReplicaServer(String id, Members members, Path directory, Application<Q, R> app, EngineConfig config,
      RaftSettings raft, SigningKey operatorKey, InstantSource clock, boolean joining, long storeCacheBytesMax)
      throws IOException {
    this.id = id;
    this.members = members;
    this.app = app;
    this.config = config;
    this.raft = raft;
    this.operatorKey = operatorKey;
    this.clock = clock;
    DataFormat.checkOrCreate(directory);
    long opening = System.nanoTime();
    // Raft's log is durable on a majority and replayed past the persisted applied mark.
    this.replica = new Replica(StoreConfig.defaults(directory.resolve("store")).withDurability(Durability.NO_SYNC)
        .withCacheBytesMax(storeCacheBytesMax), app, config, Durability.NO_SYNC);
    long raftStarting = System.nanoTime();
    try {
      String address = members.addresses().get(id);
      if (address == null) {
        throw new IllegalArgumentException("replica " + id + " is not a member of " + members.addresses().keySet());
      }
      int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
      BulwarkStateMachine stateMachine = new BulwarkStateMachine(id, replica, new Leadership(), raft.entryBytesMax(),
          raft.snapshotEveryEntries());
      LeaderExitWatch.RatisView following = new LeaderExitWatch.RatisView(members.groupId());
      org.apache.ratis.conf.Parameters parameters = raft.parameters();
      this.snapshotBound = SnapshotBoundFollowers.in(parameters);
      LeaderExitWatch watch = null;
      if (raft.electOnLeaderExit()) {
        watch = new LeaderExitWatch(following, LeaderExitWatch::connect, LeaderExitWatch.SYSTEM,
            java.util.concurrent.Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("leader-exit-watch-", 0).factory()));
        var filter = watch.filter();
        GrpcConfigKeys.Server.setServicesCustomizer(parameters, (builder, types) ->
            types.contains(org.apache.ratis.grpc.server.GrpcServices.Type.SERVER) ? builder.addTransportFilter(filter)
                : builder);
      }
      this.leaderExitWatch = watch;
      this.server = RaftServer.newBuilder()
          .setServerId(RaftPeerId.valueOf(id))
          // A joining replica starts in an empty group; the configuration change brings it in.
          .setGroup(joining ? RaftGroup.valueOf(members.groupId()) : members.group())
          .setStateMachine(stateMachine)
          .setProperties(properties(directory.resolve("raft"), port, raft))
          .setParameters(parameters)
          .setOption(RaftStorage.StartupOption.RECOVER)
          .build();
      following.attach(server);
      server.start();
      try {
        // A commit the applying thread is told of just before it waits must not be lost (LatchedSignal).
        RatisSignals.latchUpdater(server.getDivision(members.groupId()));
      } catch (IOException | RuntimeException e) {
        server.close();
        throw e;
      }
      log.info("replica {}: store opened in {} ms (batch {}), Raft server started in {} ms", id,
          (raftStarting - opening) / 1_000_000, replica.applied().batchNumber(), (System.nanoTime() - raftStarting) / 1_000_000);
    } catch (IOException | RuntimeException e) {
      replica.close();
      throw e;
    }
    this.raftWatch = Thread.ofPlatform().name("bulwark-raft-watch-" + id).daemon().start(this::watchRaft);
  }

  /** Starts (or restarts, from its directory) replica {@code id} of {@code members}. */
  public static <Q, R> ReplicaServer<Q, R> start(String id, Members members, Path directory, Application<Q, R> app,
      EngineConfig config, RaftSettings raft, SigningKey operatorKey, InstantSource clock) {
    return start(id, members, directory, app, config, raft, operatorKey, clock, StoreConfig.CACHE_BYTES_DEFAULT);
  }

  /** As the other {@code start}, with the store's object cache bounded to {@code storeCacheBytesMax}. */
  public static <Q, R> ReplicaServer<Q, R> start(String id, Members members, Path directory, Application<Q, R> app,
      EngineConfig config, RaftSettings raft, SigningKey operatorKey, InstantSource clock, long storeCacheBytesMax) {
    try {
      return new ReplicaServer<>(id, members, directory, app, config, raft, operatorKey, clock, false, storeCacheBytesMax);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start replica " + id, e);
    }
  }

  /**
   * Starts a new, empty replica {@code id} that will join a running cluster: it waits until
   * {@link #changeMembers} (on any member) adds it, then catches up from the leader, by snapshot
   * if the log was purged. {@code members} must include it.
   */
  public static <Q, R> ReplicaServer<Q, R> join(String id, Members members, Path directory, Application<Q, R> app,
      EngineConfig config, RaftSettings raft, SigningKey operatorKey, InstantSource clock) {
    return join(id, members, directory, app, config, raft, operatorKey, clock, StoreConfig.CACHE_BYTES_DEFAULT);
  }

  /** As the other {@code join}, with the store's object cache bounded to {@code storeCacheBytesMax}. */
  public static <Q, R> ReplicaServer<Q, R> join(String id, Members members, Path directory, Application<Q, R> app,
      EngineConfig config, RaftSettings raft, SigningKey operatorKey, InstantSource clock, long storeCacheBytesMax) {
    try {
      return new ReplicaServer<>(id, members, directory, app, config, raft, operatorKey, clock, true, storeCacheBytesMax);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start replica " + id, e);
    }
  }

  /**
   * Changes the cluster's membership to {@code next} (a Raft configuration change, through the
   * leader): new replicas are caught up first, removed ones stop receiving entries.
   */
  public void changeMembers(Members next) throws IOException {
    changeMembers(members, raft, next);
    log.info("replica {}: cluster members are now {}", id, next.addresses().keySet());
  }

  /** Changes the membership of the cluster {@code members} describes to {@code next}, from outside it. */
  public static void changeMembers(Members members, RaftSettings raft, Members next) throws IOException {
    List<RaftPeer> peers = new ArrayList<>(next.group().getPeers());
    try (var client = org.apache.ratis.client.RaftClient.newBuilder().setRaftGroup(members.group())
        .setProperties(new RaftProperties()).setParameters(raft.parameters()).build()) {
      // The List overload: the array one drops the servers in Ratis 3.2.0.
      var reply = client.admin().setConfiguration(peers);
      if (!reply.isSuccess()) {
        throw new IOException("membership change to " + next.addresses().keySet() + " failed: " + reply.getException());
      }
    }
  }

  static RaftProperties properties(Path raftDir, int port, RaftSettings raft) {
    RaftProperties p = new RaftProperties();
    // gRPC, with a bound on how long a step-down waits for a log appender (RATIS-2345).
    org.apache.ratis.RaftConfigKeys.Rpc.setType(p, new BoundedStopGrpc());
    RaftServerConfigKeys.setStorageDir(p, List.of(raftDir.toFile()));
    GrpcConfigKeys.Server.setPort(p, port);
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(raft.electionTimeoutMin().toMillis(), TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(raft.electionTimeoutMax().toMillis(), TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(raft.peerRequestTimeout().toMillis(), TimeUnit.MILLISECONDS));
    // One entry is one batch: the appender, its write buffer and gRPC messages must all fit it.
    SizeInBytes entry = SizeInBytes.valueOf(raft.entryBytesMax() + (1L << 20));
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, entry);
    RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(entry.getSize() + (1L << 20)));
    GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf(entry.getSize() + (1L << 20)));
    // Snapshots are store checkpoints; the log is purged behind them, and a follower that missed
    // purged entries is sent the latest snapshot. Only closed segments can be purged.
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, raft.snapshotEveryEntries());
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    // Purging only what every follower has committed spares a restarted follower a snapshot:
    // sending one is where Ratis 3.2.0 can deadlock on a step-down (docs/chaos.md).
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, raft.purgePastLaggingFollowers());
    RaftServerConfigKeys.Log.setPurgeGap(p, (int) Math.min(Integer.MAX_VALUE, Math.max(1, raft.snapshotEveryEntries() / 2)));
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(raft.logSegmentBytes()));
    RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf(Math.min(raft.logSegmentBytes(), 4L << 20)));
    RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);
    // A snapshot goes to a follower in chunks, and Ratis 3.2.0 keeps each chunk it sent reachable
    // (from the time-out check it schedules for it) for element-limit x request-timeout after
    // sending it, answered or not. With its defaults (16 MiB chunks, 8 in flight, 3 s: 24 s) a
    // leader held up to 850 MiB of a 1.3 GiB snapshot in heap (docs/chaos.md, "Snapshot sends
    // and the leader's heap"). 1 MiB chunks, 4 in flight (4 MiB; one at a time made sends three
    // times slower on a loaded machine), and a chunk answered within twice a peer call's time
    // (4 s by default; 2 s timed sends out under load) leave a send holding what it sent in the
    // last 4 s, which depends on the send's speed, and no Ratis setting bounds that (up to
    // 173 MiB measured).
    int snapshotChunkBytes = 1 << 20;
    int snapshotChunksInFlight = 4;
    RaftServerConfigKeys.Log.Appender.setSnapshotChunkSizeMax(p, SizeInBytes.valueOf(snapshotChunkBytes));
    GrpcConfigKeys.Server.setInstallSnapshotRequestElementLimit(p, snapshotChunksInFlight);
    GrpcConfigKeys.Server.setInstallSnapshotRequestTimeout(p, TimeDuration.valueOf(
        2 * raft.peerRequestTimeout().toMillis() / snapshotChunksInFlight, TimeUnit.MILLISECONDS));
    // Ratis' default backs off from a follower that fails to 1 s and then 5 s between attempts, so
    // a restarted follower waited seconds for the leader to call it again (and, not hearing from
    // it, kept starting pre-votes). An attempt at a down follower is one refused connection: try
    // again well within the election timeout, for as long as it stays down.
    RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, APPENDER_RETRY_POLICY);
    // A leader that steps down because it lost its majority's heartbeats (paused, or cut off)
    // starts no election for this long; Ratis waits 10 s. But such a replica may hold the
    // longest log: the leader elected in its place sent it entries the third replica has not
    // got, and if that leader dies too, it is the only one that can win (the third's pre-votes
    // are refused), so the cluster stayed leaderless for up to 10 s (docs/chaos.md, seen in
    // chaos runs as 4 to 7 s failovers). Pre-vote already keeps a returning replica from
    // disrupting a healthy leader. The same setting is the JVM pause after which a leader
    // steps down, which at twice the longest election timeout has been replaced anyway.
    RaftServerConfigKeys.LeaderElection.setLeaderStepDownWaitTime(p,
        TimeDuration.valueOf(leaderStepDownWait(raft).toMillis(), TimeUnit.MILLISECONDS));
    // Reads wait for a ReadIndex (Raft section 6.4): a deposed or partitioned replica cannot
    // answer from a state older than writes already confirmed elsewhere.
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    RaftServerConfigKeys.Read.setTimeout(p, TimeDuration.valueOf(READ_BARRIER_TIMEOUT_MS, TimeUnit.MILLISECONDS));
    return p;
  }

  /** How long a leader that lost its majority waits before it may stand for election again. */
  static java.time.Duration leaderStepDownWait(RaftSettings raft) {
    return raft.electionTimeoutMax().multipliedBy(2);
  }

  /** Reacts to Ratis' leadership notifications without blocking its threads. */
  private final class Leadership implements BulwarkStateMachine.Leadership {
    @Override public void leaderReady() {
      readyAtNanos = System.nanoTime();
      // Off the Ratis thread, and never on the common pool, which callers may have filled.
      Thread.ofPlatform().name("bulwark-sequencer-start").daemon().start(ReplicaServer.this::startSequencing);
    }

    @Override public void notLeader() {
      stopSequencing("replica " + id + " stopped leading");
    }

    @Override public void leaderChanged(RaftPeerId newLeader) {
      if (newLeader != null && newLeader.toString().equals(id)) {
        electedAtNanos = System.nanoTime();
      }
      leaderId = newLeader == null ? null : newLeader.toString();
      recordLeaderChange(leaderId);
      if (newLeader != null && !newLeader.toString().equals(id)) {
        stopSequencing("leadership moved to " + newLeader);
      }
      log.info("replica {}: leader is now {}", id, leaderId);
    }
  }

  private volatile dev.bulwark.server.engine.PipelineObserver pipelineObserver =
      dev.bulwark.server.engine.PipelineObserver.NONE;

  /** Reports the batches of every sequencer this replica runs while it leads, from now on. */
  public void observePipeline(dev.bulwark.server.engine.PipelineObserver observer) {
    this.pipelineObserver = Objects.requireNonNull(observer);
    Sequencer<Q, R> s = sequencer;
    if (s != null) {
      s.observe(observer);
    }
  }

  /** A leadership change this replica saw: when, and who leads after it (empty: nobody known). */
  public record LeaderChange(long timeMs, Optional<String> leader) {}

  private static final int LEADER_CHANGES_KEPT = 64;
  private final java.util.ArrayDeque<LeaderChange> leaderChanges = new java.util.ArrayDeque<>();

  private void recordLeaderChange(String leader) {
    synchronized (leaderChanges) {
      if (leaderChanges.size() == LEADER_CHANGES_KEPT) {
        leaderChanges.removeFirst();
      }
      leaderChanges.addLast(new LeaderChange(clock.millis(), Optional.ofNullable(leader)));
    }
  }

  /** The most recent leadership changes this replica saw, oldest first (at most 64). */
  public List<LeaderChange> leaderChanges() {
    synchronized (leaderChanges) {
      return List.copyOf(leaderChanges);
    }
  }

  /** When Ratis last named this replica leader, and when it last said this replica's first entry as leader was applied. */
  private volatile long electedAtNanos;
  private volatile long readyAtNanos;

  private void startSequencing() {
    synchronized (leadershipLock) {
      if (sequencer != null || !isLeader()) {
        return;
      }
      long starting = System.nanoTime();
      long term = currentTerm();
      sequencer = new Sequencer<>(app, config, replica,
          new RatisReplicator(server, members.groupId(), raft, term), operatorKey, clock);
      sequencer.observe(pipelineObserver);
      leaderId = id;
      long now = System.nanoTime();
      // Where a failover's time goes once elected: Ratis commits and applies the new term's first entry, then the sequencer starts.
      log.info("replica {} leads from batch {} ({} ms after Ratis named it leader: its first entry committed and applied "
          + "after {} ms, the sequencer started in {} ms)", id, replica.applied().batchNumber() + 1,
          (now - electedAtNanos) / 1_000_000, (readyAtNanos - electedAtNanos) / 1_000_000, (now - starting) / 1_000_000);
    }
  }

  private void stopSequencing(String reason) {
    Sequencer<Q, R> stopping;
    synchronized (leadershipLock) {
      stopping = sequencer;
      sequencer = null;
    }
    if (stopping != null) {
      log.info("{}: sequencer stops", reason);
      // Off the Ratis thread: closing waits for in-flight batches, which Ratis completes.
      Thread stopper = Thread.ofPlatform().name("bulwark-sequencer-stop").daemon().start(stopping::close);
      synchronized (stoppers) {
        stoppers.add(stopper);
      }
    }
  }

  /** Ratis' "wait, times" pairs: ten quick retries, then one every 100 ms (randomized by half). */
  static final String APPENDER_RETRY_POLICY = "1ms,10, 100ms," + Integer.MAX_VALUE;

  /** How long a read waits for its ReadIndex and for this replica to apply up to it. */
  static final long READ_BARRIER_TIMEOUT_MS = 3_000;

  /**
   * The caller of this replica's own requests to its Raft server, one per kind (ReadIndex, read
   * marker, leadership hand-off): a client id and its next call id. Ratis' retry cache keys
   * replies by the pair, so each kind counts its calls under an id of its own.
   */
  private record LocalCaller(ClientId client, java.util.concurrent.atomic.AtomicLong calls) {
    LocalCaller() {
      this(ClientId.randomId(), new java.util.concurrent.atomic.AtomicLong());
    }

    long nextCallId() {
      return calls.incrementAndGet();
    }
  }

  private final LocalCaller readIndexCaller = new LocalCaller();

  /**
   * Completes once this replica has applied every entry committed before the call, as a
   * current leader confirmed it; fails if no leader confirms in time. A read answered after it
   * reflects every write confirmed before the read began. On the leader, the confirmation is
   * the commit of an empty entry appended after the call ({@link LeaderReadBarrier}: Ratis'
   * own ReadIndex can answer there without asking the majority); on a follower it is a Raft
   * ReadIndex, the leader's commit index, which this replica then applies up to.
   */
  public CompletableFuture<Void> readBarrier() {
    boolean leading;
    try {
      leading = server.getDivision(members.groupId()).getInfo().isLeader();
    } catch (IOException e) {
      return CompletableFuture.failedFuture(new ReadBarrierException("replica " + id + " has no Raft group: " + e));
    }
    CompletableFuture<Void> confirmed = leading ? leaderReads.await() : readIndex();
    return confirmed.orTimeout(READ_BARRIER_TIMEOUT_MS, TimeUnit.MILLISECONDS).handle((ok, failure) -> {
      if (failure != null) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
            ? failure.getCause() : failure;
        throw new java.util.concurrent.CompletionException(cause instanceof ReadBarrierException
            ? cause : new ReadBarrierException("replica " + id + " could not confirm it is current: " + cause));
      }
      return null;
    });
  }

  private final LocalCaller readMarkerCaller = new LocalCaller();
  private final LeaderReadBarrier leaderReads = new LeaderReadBarrier(this::submitReadMarker);

  /** Appends an empty entry (which the state machine applies as nothing); completes once it is applied here. */
  private CompletableFuture<Void> submitReadMarker() {
    return emptyRequest(readMarkerCaller, RaftClientRequest.writeRequestType());
  }

  /** A Raft ReadIndex: completes once this replica has applied up to the leader's commit index. */
  private CompletableFuture<Void> readIndex() {
    return emptyRequest(readIndexCaller, RaftClientRequest.readRequestType());
  }

  /** Submits an empty request of {@code type} to this replica's own Raft server; fails as its reply does. */
  private CompletableFuture<Void> emptyRequest(LocalCaller caller, RaftClientRequest.Type type) {
    RaftClientRequest request = RaftClientRequest.newBuilder()
        .setClientId(caller.client())
        .setServerId(server.getId())
        .setGroupId(members.groupId())
        .setCallId(caller.nextCallId())
        .setMessage(Message.EMPTY)
        .setType(type)
        .build();
    try {
      return server.submitClientRequestAsync(request).thenApply(reply -> {
        if (!reply.isSuccess()) {
          throw new java.util.concurrent.CompletionException(new ReadBarrierException(
              "replica " + id + " could not confirm it is current: " + reply.getException()));
        }
        return null;
      });
    } catch (IOException e) {
      return CompletableFuture.failedFuture(new ReadBarrierException("replica " + id + " could not start a read: " + e));
    }
  }

  /** A read could not be confirmed current: no leader answered in time, or this replica is not part of the group. */
  public static final class ReadBarrierException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ReadBarrierException(String message) {
      super(message);
    }
  }

  /** Runs a request through this replica's pipeline if it leads. */
  public CompletableFuture<Outcome> submit(ClientRequest request) {
    return submit(request, dev.bulwark.core.app.Origin.PUBLIC);
  }

  /** Runs a request that {@code origin} carried through this replica's pipeline if it leads. */
  public CompletableFuture<Outcome> submit(ClientRequest request, dev.bulwark.core.app.Origin origin) {
    return submit(request, origin, true);
  }

  /**
   * {@link #submit(ClientRequest, dev.bulwark.core.app.Origin)}; {@code stateProofs}: whether the
   * receipt should carry proofs of the state entries the request wrote.
   */
  public CompletableFuture<Outcome> submit(ClientRequest request, dev.bulwark.core.app.Origin origin, boolean stateProofs) {
    Sequencer<Q, R> s = sequencer;
    if (s == null) {
      return CompletableFuture.completedFuture(new Outcome.NotLeader(Optional.ofNullable(leaderId).filter(l -> !l.equals(id))));
    }
    return s.submit(request, origin, stateProofs);
  }

  /**
   * A state entry with its proof under the latest signed head this replica applied: after
   * {@link #readBarrier}, a head that includes every write confirmed before the barrier
   * began. Before the first batch, an empty-state proof.
   */
  public dev.bulwark.core.protocol.Frame.Answer query(dev.bulwark.core.Bytes key) {
    var head = replica.lastHead();
    var entry = head.isEmpty()
        ? new dev.bulwark.core.state.StateEntryProof(key, Optional.empty(),
            new dev.bulwark.core.state.StateProof(List.of()))
        : new dev.bulwark.core.state.StateEntryProof(key, replica.state().get(head.get().head().batchNumber(), key),
            replica.state().prove(head.get().head().batchNumber(), key));
    return new dev.bulwark.core.protocol.Frame.Answer(0, head, entry);
  }

  /** The application's query {@code name} over this replica's committed state (current once {@link #readBarrier} passed). */
  public dev.bulwark.core.Bytes appQuery(String name, dev.bulwark.core.Bytes argument) {
    try (var snapshot = replica.objects().snapshot()) {
      return app.query(name, argument, snapshot);
    }
  }

  public String id() {
    return id;
  }

  /**
   * What this replica knows of itself and the cluster, for operators.
   *
   * @param role Raft's name for its role (LEADER, FOLLOWER, CANDIDATE, LISTENER...), or DOWN once closed
   * @param commitIndex the highest Raft index known committed
   * @param applied how far this replica applied the log, with its running state digest
   * @param latestHead the signed head of the latest batch it applied
   * @param sequencing whether it leads and its sequencer takes requests
   */
  public record Status(String id, String cluster, String role, long term, Optional<String> leader, long commitIndex,
      dev.bulwark.server.engine.EngineTables.Applied applied, Optional<dev.bulwark.core.receipt.SignedBatchHead> latestHead,
      boolean sequencing) {}

  public Status status() {
    String role = "DOWN";
    long term = 0;
    long commit = -1;
    try {
      var division = server.getDivision(members.groupId());
      role = division.getInfo().getCurrentRole().name();
      term = division.getInfo().getCurrentTerm();
      commit = division.getRaftLog().getLastCommittedIndex();
    } catch (IOException | RuntimeException e) {
      // closed or not yet in its group: reported as DOWN
    }
    return new Status(id, members.cluster(), role, term, leaderId(), commit, replica.applied(), replica.lastHead(),
        isSequencing());
  }

  /** The cluster's members as this replica was configured (id -> Raft address). */
  public Members members() {
    return members;
  }

  public Replica replica() {
    return replica;
  }

  /**
   * Where the current members' clients connect, id -> host:port, as the Raft configuration
   * this replica holds names them (so a membership change shows here at once); the endpoints
   * it was started with when the configuration carries none (a cluster formed before client
   * endpoints were recorded in it). Members without a known endpoint are left out.
   */
  public Map<String, String> clientEndpoints() {
    Map<String, String> current = new LinkedHashMap<>();
    try {
      for (RaftPeer peer : server.getDivision(members.groupId()).getRaftConf().getCurrentPeers()) {
        String client = peer.getDataStreamAddress();
        if (client != null && !client.isEmpty()) {
          current.put(peer.getId().toString(), client);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not in its group (yet, or any more): what it was started with
    }
    return current.isEmpty() ? members.clientAddresses() : current;
  }

  /** A replicator as a sequencer leading in {@code term} gets one (for tests of stale sequencers). */
  RatisReplicator replicatorForTerm(long term) {
    return new RatisReplicator(server, members.groupId(), raft, term);
  }

  /** This replica's current Raft term (0 when it is not in its group). */
  long currentTerm() {
    try {
      return server.getDivision(members.groupId()).getInfo().getCurrentTerm();
    } catch (IOException e) {
      return 0;
    }
  }

  /** The commit index this replica knows {@code peer} has reached (Ratis' commit infos), or -1 if it knows none. */
  long knownCommitIndexOf(String peer) {
    try {
      return knownCommitIndexes(server.getDivision(members.groupId())).getOrDefault(peer, -1L);
    } catch (IOException e) {
      return -1;
    }
  }

  /** The commit index of each member, as {@code division} knows it (Ratis' commit infos). */
  private static Map<String, Long> knownCommitIndexes(RaftServer.Division division) {
    Map<String, Long> commits = new java.util.HashMap<>();
    for (var info : division.getCommitInfos()) {
      commits.put(info.getServer().getId().toStringUtf8(), info.getCommitIndex());
    }
    return commits;
  }

  /** How many elections this replica started at once because its leader's process was gone ({@link LeaderExitWatch}). */
  long leaderExitElections() {
    LeaderExitWatch watch = leaderExitWatch;
    return watch == null ? 0 : watch.electionsStarted();
  }

  /** This replica's Raft division, for checks of what Bulwark changes in Ratis ({@link RatisSignals}). */
  RaftServer.Division raftDivision() throws IOException {
    return server.getDivision(members.groupId());
  }

  public boolean isLeader() {
    try {
      return server.getDivision(members.groupId()).getInfo().isLeader();
    } catch (IOException e) {
      return false;
    }
  }

  /** The first index still in this replica's Raft log: above 0 once the log was purged behind a snapshot. */
  public long raftLogStartIndex() {
    try {
      return server.getDivision(members.groupId()).getRaftLog().getStartIndex();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether this replica leads and its sequencer takes requests. */
  public boolean isSequencing() {
    return sequencer != null;
  }

  public Optional<String> leaderId() {
    return Optional.ofNullable(leaderId);
  }

  /** Asks Ratis to hand leadership to {@code target} (the seed's "operators select the master"). */
  public void transferLeadership(String target, long timeoutMs) throws IOException {
    transferLeadership(members, raft, target, timeoutMs);
  }

  /** Hands leadership of the cluster {@code members} describes to {@code target}, from outside it. */
  public static void transferLeadership(Members members, RaftSettings raft, String target, long timeoutMs)
      throws IOException {
    if (!members.addresses().containsKey(target)) {
      throw new IllegalArgumentException("no replica " + target + " in " + members.addresses().keySet());
    }
    // Leadership may move while the request is on its way (the reply is then DIFFERENT_LEADER):
    // ask again, a few times, with a fresh client that finds the current leader.
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      try (var client = org.apache.ratis.client.RaftClient.newBuilder().setRaftGroup(members.group())
          .setProperties(new RaftProperties()).setParameters(raft.parameters()).build()) {
        var reply = client.admin().transferLeadership(RaftPeerId.valueOf(target), timeoutMs);
        if (reply.isSuccess()) {
          return;
        }
        last = new IOException("leadership transfer to " + target + " failed: " + reply.getException());
      } catch (IOException e) {
        last = e;
      }
      try {
        Thread.sleep(300L * (attempt + 1));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while handing leadership to " + target, e);
      }
    }
    throw last;
  }

  /** How often a leaderless replica clears its connections' back-off, so that its vote requests go out. */
  static final java.time.Duration RECONNECT_EVERY = java.time.Duration.ofMillis(100);

  /** How often a leader looks at its followers' progress (a multiple of {@link #RECONNECT_EVERY}). */
  static final java.time.Duration FOLLOWER_WATCH_EVERY = java.time.Duration.ofSeconds(1);

  /**
   * How long a follower that answers may stay put while the leader commits before leadership is
   * handed away to free it ({@link StalledFollowerWatch}): four peer calls' time, 8 s by
   * default. A follower catching up moves within a second (a restarted one included: its
   * commit index jumps as the backlog lands); the stall itself forms within a second or two of
   * a restart, several times an hour in a brisk chaos run, and lasts until leadership changes,
   * and while it lasts a leader kill leaves a new leader that must first bring the stalled
   * follower up to date before it can commit.
   */
  static java.time.Duration followerStallLimit(RaftSettings raft) {
    return raft.peerRequestTimeout().multipliedBy(4);
  }

  /** The replica's watch thread: reconnects while leaderless, and looks at followers while leading. */
  private void watchRaft() {
    StalledFollowerWatch watch = new StalledFollowerWatch(followerStallLimit(raft).toMillis(),
        raft.peerRequestTimeout().toMillis());
    long ticksPerLook = FOLLOWER_WATCH_EVERY.toMillis() / RECONNECT_EVERY.toMillis();
    try {
      for (long tick = 1; !Thread.currentThread().isInterrupted(); tick++) {
        Thread.sleep(RECONNECT_EVERY.toMillis());
        try {
          reconnectWhileLeaderless();
          if (tick % ticksPerLook == 0) {
            lookAtFollowers(watch);
          }
        } catch (IOException | RuntimeException e) {
          watch.reset(); // closing, or not (yet) in its group
        }
      }
    } catch (InterruptedException stopped) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * While this replica knows no leader, makes its connections to the other members that are
   * waiting out gRPC's reconnect back-off try again now. Why: a replica that could not reach a
   * peer (down, or its own earlier vote requests refused while that peer was down) fails every
   * call to it at once, without trying, until the back-off expires: 1 s after the first failure,
   * growing by 1.6 each time, to minutes. Ratis' log appender clears it before it retries, its
   * elections do not. So in a chaos run a follower whose peer had been restarted a few seconds
   * before could not get its vote requests to it for 2.5 s after the leader was killed, while
   * that peer, its log too short to win, could only wait for it: a 3.8 s failover. A call to a
   * member that is really down costs a refused connection; only the leaderless do this.
   */
  private void reconnectWhileLeaderless() throws IOException {
    var division = server.getDivision(members.groupId());
    if (division.getInfo().isLeader() || division.getInfo().getLeaderId() != null) {
      return;
    }
    if (!(server.getServerRpc() instanceof org.apache.ratis.server.RaftServerRpcWithProxy<?, ?> rpc)) {
      return;
    }
    for (RaftPeer peer : division.getRaftConf().getCurrentPeers()) {
      if (!peer.getId().equals(server.getId())
          && rpc.getProxies().getProxy(peer.getId()) instanceof org.apache.ratis.grpc.server.GrpcServerProtocolClient client) {
        client.resetConnectBackoff();
      }
    }
  }

  private void lookAtFollowers(StalledFollowerWatch watch) throws IOException {
    var division = server.getDivision(members.groupId());
    if (!division.getInfo().isLeader()) {
      watch.reset();
      return;
    }
    Map<String, Long> commits = knownCommitIndexes(division);
    List<StalledFollowerWatch.Follower> followers = new ArrayList<>();
    for (var f : division.getInfo().getRoleInfoProto().getLeaderInfo().getFollowerInfoList()) {
      String follower = f.getId().getId().toStringUtf8();
      followers.add(new StalledFollowerWatch.Follower(follower, commits.getOrDefault(follower, -1L),
          f.getLastRpcElapsedTimeMs(), snapshotBound.contains(follower)));
    }
    var raftLog = division.getRaftLog();
    Optional<String> stalled = watch.observe(clock.millis(), raftLog.getLastCommittedIndex(), raftLog.getStartIndex(),
        followers);
    if (stalled.isPresent()) {
      watch.reset();
      handOff(stalled.get(), watch.successorFor(stalled.get(), followers));
    }
  }

  /**
   * Hands leadership to {@code successor}, so that a new leader replicates to {@code stalled}
   * afresh, or, with no successor, leaves things as they are and says so.
   */
  void handOff(String stalled, Optional<String> successor) {
    if (successor.isEmpty()) {
      log.warn("replica {}: follower {} answers but has not moved for {} s, and no other follower can take over"
          + " the lead to free it", id, stalled, followerStallLimit(raft).toSeconds());
      return;
    }
    String next = successor.get();
    log.warn("replica {}: follower {} answers but has not moved for {} s while this leader commits (Ratis 3.2.0"
        + " lost track of its log); handing leadership to {} so that a new leader replicates to it afresh",
        id, stalled, followerStallLimit(raft).toSeconds(), next);
    var request = new org.apache.ratis.protocol.TransferLeadershipRequest(handOffCaller.client(), server.getId(),
        members.groupId(), handOffCaller.nextCallId(), RaftPeerId.valueOf(next),
        raft.electionTimeoutMax().multipliedBy(4).toMillis());
    try {
      server.transferLeadershipAsync(request).whenComplete((reply, failure) -> {
        if (failure != null || !reply.isSuccess()) {
          log.warn("replica {}: handing leadership to {} failed: {}", id, next,
              failure != null ? failure.toString() : reply.getException());
        }
      });
    } catch (IOException e) {
      log.warn("replica {}: handing leadership to {} failed: {}", id, next, e.toString());
    }
  }

  private final LocalCaller handOffCaller = new LocalCaller();

  private volatile MonitorWatchdog deadlockWatchdog;

  /**
   * Watches for Ratis 3.2.0's step-down deadlock (RATIS-2345; see {@link MonitorWatchdog}):
   * once a thread has held the Raft server's monitor while waiting for {@code limit}, or for
   * {@code stepDownLimit} in the deadlock's own stack, {@code onStuck} gets its stack. Only a restart clears that deadlock, so a process that
   * runs one replica ({@code bulwark serve}) halts there; replicas sharing a JVM (tests) do not
   * call this. A replica has one watchdog: a second call is a programming error.
   */
  public synchronized void watchForRaftDeadlock(java.time.Duration limit, java.time.Duration stepDownLimit,
      java.util.function.Consumer<String> onStuck) {
    if (deadlockWatchdog != null) {
      throw new IllegalStateException("replica " + id + " already watches for the Raft deadlock");
    }
    try {
      deadlockWatchdog = MonitorWatchdog.start(server.getDivision(members.groupId()), limit,
          MonitorWatchdog::isRatisStepDownJoin, stepDownLimit, DEADLOCK_CHECK_EVERY, onStuck);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("replica " + id + " has no Raft group to watch", e);
    }
  }

  /**
   * How often the deadlock watchdog takes a thread dump with locked monitors: a pause of about
   * 2 to 4 ms at 100 to 300 threads (measured), so not often, and well below the limits.
   */
  static final java.time.Duration DEADLOCK_CHECK_EVERY = java.time.Duration.ofSeconds(2);

  @Override
  public void close() {
    raftWatch.interrupt();
    MonitorWatchdog watchdog = deadlockWatchdog;
    if (watchdog != null) {
      watchdog.close();
    }
    stopSequencing("replica " + id + " is closing");
    try {
      server.close();
    } catch (IOException e) {
      log.warn("replica {}: closing its Raft server failed: {}", id, e.toString());
    }
    try {
      raftWatch.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (stoppers) {
      for (Thread t : stoppers) {
        try {
          t.join(30_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    replica.close();
  }
}
