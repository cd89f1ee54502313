package dev.bulwark.server.raft;

import dev.bulwark.core.app.Application;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.server.engine.EngineConfig;
import dev.bulwark.core.protocol.Outcome;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Several replicas in one JVM on 127.0.0.1 with free ports: for the demo, the whole-pipeline
 * benchmark and tests. {@link #send} plays a patient client: it follows "not leader" to the
 * leader and retries the same (client, sequence) after "unknown", "not committed" or "busy",
 * which the exactly-once sessions make safe.
 */
public final class InProcessCluster<Q, R> implements AutoCloseable {
  private final Path directory;
  private final Application<Q, R> app;
  private final EngineConfig config;
  private final RaftSettings raft;
  private final SigningKey operatorKey;
  private final ReplicaServer.Members members;
  private final Map<String, ReplicaServer<Q, R>> running = new ConcurrentHashMap<>();

  public InProcessCluster(int size, Path directory, Application<Q, R> app, EngineConfig config, RaftSettings raft,
      SigningKey operatorKey) {
    this.directory = directory;
    this.app = app;
    this.config = config;
    this.raft = raft;
    this.operatorKey = operatorKey;
    Map<String, String> addresses = new LinkedHashMap<>();
    for (int i = 1; i <= size; i++) {
      addresses.put("r" + i, "127.0.0.1:" + freeLoopbackPort());
    }
    this.members = new ReplicaServer.Members("local", addresses);
    for (String id : addresses.keySet()) {
      start(id);
    }
  }

  /**
   * A port free on 127.0.0.1 right now, outside the ephemeral range, so that no outgoing
   * connection takes it while its replica is stopped and restarted (another process that binds
   * ports explicitly still may).
   */
  public static int freeLoopbackPort() {
    return dev.bulwark.server.net.LoopbackPorts.freePort(new java.util.SplittableRandom());
  }

  /** Starts (or restarts, from its directory) replica {@code id}. */
  public void start(String id) {
    running.put(id, ReplicaServer.start(id, members, directory.resolve(id), app, config, raft, operatorKey,
        InstantSource.system()));
  }

  /** Stops replica {@code id} as a crash would look to the others (its Raft server goes away). */
  public void stop(String id) {
    ReplicaServer<Q, R> r = running.remove(id);
    if (r != null) {
      r.close();
    }
  }

  public List<String> ids() {
    return List.copyOf(members.addresses().keySet());
  }

  public Optional<ReplicaServer<Q, R>> replica(String id) {
    return Optional.ofNullable(running.get(id));
  }

  public List<ReplicaServer<Q, R>> running() {
    return List.copyOf(running.values());
  }

  /** The replica that leads and sequences, waiting up to {@code timeoutMs} for one. */
  public ReplicaServer<Q, R> awaitLeader(long timeoutMs) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (System.nanoTime() < deadline) {
      for (ReplicaServer<Q, R> r : running.values()) {
        if (r.isSequencing()) {
          return r;
        }
      }
      Thread.sleep(10);
    }
    throw new IllegalStateException("no leader within " + timeoutMs + " ms");
  }

  /**
   * Sends {@code request} until it is confirmed or refused, at most {@code attempts} times;
   * returns the last outcome.
   */
  public Outcome send(ClientRequest request, int attempts) throws InterruptedException {
    List<String> ids = ids();
    String target = ids.getFirst();
    Outcome outcome = new Outcome.NotLeader(Optional.empty());
    for (int attempt = 0; attempt < attempts; attempt++) {
      ReplicaServer<Q, R> replica = running.get(target);
      if (replica == null) {
        outcome = new Outcome.NotLeader(Optional.empty());
      } else {
        try {
          outcome = replica.submit(request).get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
          outcome = new Outcome.Unknown(e.toString());
        }
      }
      switch (outcome) {
        case Outcome.Confirmed c -> {
          return c;
        }
        case Outcome.Rejected r -> {
          return r;
        }
        case Outcome.NotLeader n -> {
          Optional<String> hint = n.leaderId().filter(running::containsKey);
          target = hint.orElse(ids.get((ids.indexOf(target) + 1) % ids.size()));
          if (hint.isEmpty()) {
            Thread.sleep(10); // an election is under way: give it time
          }
        }
        default -> Thread.sleep(attempt < 20 ? 5 : 50);
      }
    }
    return outcome;
  }

  /** {@link #send} on a virtual thread of its own: it sleeps between attempts. */
  public CompletableFuture<Outcome> sendAsync(ClientRequest request, int attempts) {
    CompletableFuture<Outcome> result = new CompletableFuture<>();
    Thread.ofVirtual().start(() -> {
      try {
        result.complete(send(request, attempts));
      } catch (InterruptedException e) {
        result.complete(new Outcome.Unknown("interrupted"));
      }
    });
    return result;
  }

  /** Closes every replica side by side: Ratis takes seconds to close a server. */
  @Override
  public void close() {
    List<Thread> closing = new ArrayList<>();
    for (ReplicaServer<Q, R> r : running.values()) {
      closing.add(Thread.ofPlatform().start(r::close));
    }
    for (Thread t : closing) {
      try {
        t.join(60_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    running.clear();
  }
}
