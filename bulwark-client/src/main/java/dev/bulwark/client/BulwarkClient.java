package dev.bulwark.client;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.core.protocol.MembersQuery;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.receipt.Verification;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProtocols;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * The Java client of a Bulwark cluster. Give it any replica; it finds the leader by following
 * "not leader" answers (when one names a leader it was not configured with, it asks that replica
 * for the current members and searches among them from then on), and after a failover, a
 * timeout or a dropped connection it sends the same (client, sequence) again, which the
 * replicas answer with the original confirmation if the first attempt committed: a retry is
 * never applied twice. Every receipt is checked against the operator's key and against the
 * request and result it claims to confirm.
 *
 * <p>Requests go out on lanes: each lane is a client id with its own sequence numbers and at
 * most one request in flight, since a replica remembers only the latest request per client.
 * {@link #submitAsync} returns at once; {@link #submit} waits.
 */
public final class BulwarkClient implements AutoCloseable {
  private final ClientConfig config;
  private final SslContext tls;
  /** Every receipt of a batch carries the same signed head: its signature is checked once. */
  private final dev.bulwark.core.receipt.VerifiedHeads verifiedHeads;
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor();
  private final BlockingQueue<Lane> freeLanes;
  private final Map<String, CompletableFuture<ReplicaConnection>> connections = new ConcurrentHashMap<>();
  /** The members as last learned: at first the configured replicas, then what a replica said. */
  private volatile Members members;
  private volatile String leaderGuess;

  /** Replica id -> host:port of its client listener, and the ids in the order leader searches go round. */
  private record Members(Map<String, String> addresses, List<String> ids) {
    static Members of(Map<String, String> addresses) {
      Map<String, String> copy = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(addresses));
      return new Members(copy, List.copyOf(copy.keySet()));
    }
  }

  /** A client id with its own sequence; used by one request at a time. */
  private static final class Lane {
    final Bytes clientId;
    long nextSequence;

    Lane(Bytes clientId, long nextSequence) {
      this.clientId = clientId;
      this.nextSequence = nextSequence;
    }
  }

  public BulwarkClient(ClientConfig config) {
    this.config = config;
    this.verifiedHeads = new dev.bulwark.core.receipt.VerifiedHeads(config.operatorKey(), 256);
    try {
      SslContextBuilder builder = SslContextBuilder.forClient()
          .trustManager(config.caCertificate().toFile())
          .protocols(SslProtocols.TLS_v1_3);
      config.identity().ifPresent(id -> builder.keyManager(id.certificate().toFile(), id.privateKey().toFile()));
      this.tls = builder.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException("the TLS material (CA " + config.caCertificate()
          + config.identity().map(id -> ", certificate " + id.certificate() + ", key " + id.privateKey()).orElse("")
          + ") is unusable: " + e.getMessage(), e);
    }
    this.freeLanes = new ArrayBlockingQueue<>(config.lanes());
    for (int i = 0; i < config.lanes(); i++) {
      freeLanes.add(new Lane(Bytes.utf8(config.clientName() + "/" + i), config.firstSequence()));
    }
    this.members = Members.of(config.replicas());
    this.leaderGuess = members.ids().getFirst();
  }

  /** Sends {@code payload} (an application request's canonical bytes); completes with a verified outcome. */
  public CompletableFuture<Outcome> submitAsync(Bytes payload) {
    CompletableFuture<Outcome> result = new CompletableFuture<>();
    callers.execute(() -> {
      try {
        result.complete(submit(payload));
      } catch (RuntimeException e) {
        result.completeExceptionally(e);
      } catch (InterruptedException e) {
        result.completeExceptionally(e);
      }
    });
    return result;
  }

  /**
   * Sends {@code payload} and waits: returns {@link Outcome.Confirmed} (receipt verified) or
   * {@link Outcome.Rejected}; throws {@link RequestTimeoutException} if no definite answer came
   * in time, {@link ReceiptRejectedException} if the operator's receipt does not hold.
   */
  public Outcome submit(Bytes payload) throws InterruptedException {
    Lane lane = freeLanes.take();
    try {
      ClientRequest request = new ClientRequest(lane.clientId, lane.nextSequence++, payload);
      return send(request);
    } finally {
      freeLanes.add(lane);
    }
  }

  private Outcome send(ClientRequest request) throws InterruptedException {
    long deadline = System.nanoTime() + config.requestTimeout().toNanos();
    String target = leaderGuess;
    Outcome last = null;
    // The replica this call last failed to reach, and when: the other replicas keep naming a
    // leader that died until they elect another, and dialing it again on every such hint would
    // pace the search for the new leader by the back-off of failed connections.
    String unreachable = null;
    long unreachableSince = 0;
    for (int attempt = 0; System.nanoTime() < deadline; attempt++) {
      Outcome outcome;
      try {
        outcome = connection(target).thenCompose(c -> c.send(request, config.stateProofs()))
            .get(config.attemptTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
        // The replica is down, unreachable or slow: try the next one.
        forget(target);
        unreachable = target;
        unreachableSince = System.nanoTime();
        target = next(target);
        Thread.sleep(Math.min(200, 10L << Math.min(attempt, 4)));
        continue;
      }
      last = outcome;
      switch (outcome) {
        case Outcome.Confirmed confirmed -> {
          leaderGuess = target;
          if (config.verifyReceipts()) {
            check(request, confirmed);
          }
          return confirmed;
        }
        case Outcome.Rejected rejected -> {
          return rejected;
        }
        case Outcome.NotLeader notLeader -> {
          if (notLeader.leaderId().isPresent() && !members.addresses().containsKey(notLeader.leaderId().get())) {
            // A leader this client has not heard of: the membership changed since it was configured.
            learnMembers(target);
          }
          String failed = System.nanoTime() - unreachableSince < UNREACHABLE_HINT_IGNORED_NANOS ? unreachable : null;
          Optional<String> hint = notLeader.leaderId().filter(members.addresses()::containsKey)
              .filter(id -> !id.equals(failed));
          if (hint.isPresent()) {
            target = hint.get();
          } else {
            boolean namesFailed = failed != null && notLeader.leaderId().filter(failed::equals).isPresent();
            target = nextOtherThan(target, failed);
            // An election is under way, or, when the hint names the replica just failed, the
            // others have not noticed yet that it is gone (or it is only slow: poll gently).
            Thread.sleep(namesFailed ? 50 : 20);
          }
        }
        default -> Thread.sleep(Math.min(200, 10L << Math.min(attempt, 4))); // busy, unknown, not committed
      }
    }
    throw new RequestTimeoutException("no definite answer for sequence " + request.sequence() + " within "
        + config.requestTimeout().toMillis() + " ms", last);
  }

  /** A state entry proven under a signed batch head: both checked against the operator's key. */
  public record ProvenEntry(dev.bulwark.core.receipt.SignedBatchHead head, Optional<Bytes> value) {}

  /**
   * Reads one state entry (by its trie key, see {@code AuthenticatedMap.keyBytes}) from the
   * replica believed to lead, with a proof under its latest signed head; the head's signature
   * and the proof are checked before the value is returned.
   */
  public ProvenEntry query(Bytes key) throws InterruptedException {
    long deadline = System.nanoTime() + config.requestTimeout().toNanos();
    String target = leaderGuess;
    for (int attempt = 0; System.nanoTime() < deadline; attempt++) {
      dev.bulwark.core.protocol.Frame.Answer answer;
      try {
        answer = connection(target).thenCompose(c -> c.query(key)).get(config.attemptTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
        forget(target);
        target = next(target);
        Thread.sleep(Math.min(200, 10L << Math.min(attempt, 4)));
        continue;
      }
      if (answer.head().isEmpty()) {
        throw new ReceiptRejectedException("the replica has no signed head yet");
      }
      var head = answer.head().get();
      if (!head.verify(config.operatorKey())) {
        throw new ReceiptRejectedException("the batch head does not verify under the operator key");
      }
      if (!answer.entry().key().equals(key) || !answer.entry().verify(head.head().stateRoot())) {
        throw new ReceiptRejectedException("the state proof does not hold under the signed head's state root");
      }
      return new ProvenEntry(head, answer.entry().value());
    }
    throw new RequestTimeoutException("no answer to the query within " + config.requestTimeout().toMillis() + " ms", null);
  }

  /**
   * Asks the application's query {@code name} (for the ledger, "history") of the replica
   * believed to lead, retrying elsewhere if it does not answer. The answer is not proven.
   *
   * @throws QueryFailedException if the replica refuses the query (unknown name, bad argument)
   */
  public Bytes appQuery(String name, Bytes argument) throws InterruptedException {
    long deadline = System.nanoTime() + config.requestTimeout().toNanos();
    String target = leaderGuess;
    for (int attempt = 0; System.nanoTime() < deadline; attempt++) {
      try {
        return connection(target).thenCompose(c -> c.appQuery(name, argument))
            .get(config.attemptTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        if (e.getCause() instanceof QueryFailedException refused && !refused.retryElsewhere()) {
          throw refused;
        }
      } catch (TimeoutException e) {
        // try the next replica
      }
      forget(target);
      target = next(target);
      Thread.sleep(Math.min(200, 10L << Math.min(attempt, 4)));
    }
    throw new RequestTimeoutException("no answer to query '" + name + "' within " + config.requestTimeout().toMillis() + " ms", null);
  }

  private void check(ClientRequest request, Outcome.Confirmed confirmed) {
    Verification v = confirmed.receipt().verify(verifiedHeads);
    if (v instanceof Verification.Invalid invalid) {
      throw new ReceiptRejectedException("receipt does not verify: " + invalid.failedCheck());
    }
    if (!confirmed.receipt().confirmation().requestDigest().equals(request.digest())) {
      throw new ReceiptRejectedException("receipt confirms another request");
    }
    if (!confirmed.receipt().confirmation().resultDigest().equals(confirmed.result().digest())) {
      throw new ReceiptRejectedException("receipt confirms another result");
    }
  }

  /**
   * The cluster's members as this client knows them, id -> host:port: the configured replicas
   * until a replica named a leader the client did not know, then the members that replica listed.
   */
  public Map<String, String> members() {
    return members.addresses();
  }

  /**
   * Asks replica {@code from} for the current members' client endpoints and uses them for later
   * leader searches. A replica that cannot say (an older one, or one that knows none) changes
   * nothing; neither does a failed attempt: the search goes on with the members known so far.
   */
  private void learnMembers(String from) throws InterruptedException {
    try {
      Bytes answer = connection(from).thenCompose(c -> c.appQuery(MembersQuery.NAME, Bytes.EMPTY))
          .get(config.attemptTimeout().toMillis(), TimeUnit.MILLISECONDS);
      Map<String, String> learned = MembersQuery.ANSWER.decode(answer);
      if (!learned.isEmpty()) {
        members = Members.of(learned);
      }
    } catch (java.util.concurrent.ExecutionException | TimeoutException | RuntimeException e) {
      // keep what is known
    }
  }

  private CompletableFuture<ReplicaConnection> connection(String id) {
    return connections.compute(id, (key, existing) -> {
      if (existing != null && !(existing.isDone() && (existing.isCompletedExceptionally() || !existing.join().isOpen()))) {
        return existing;
      }
      String address = members.addresses().get(key);
      if (address == null) {
        return CompletableFuture.failedFuture(new java.io.IOException("replica " + key + " is not a known member"));
      }
      int colon = address.lastIndexOf(':');
      return ReplicaConnection.open(group, tls, address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)),
          (int) Math.min(Integer.MAX_VALUE, config.attemptTimeout().toMillis()));
    });
  }

  private void forget(String id) {
    CompletableFuture<ReplicaConnection> c = connections.remove(id);
    if (c != null) {
      c.thenAccept(ReplicaConnection::close);
    }
  }

  private String next(String id) {
    List<String> ids = members.ids();
    return ids.get((ids.indexOf(id) + 1) % ids.size());
  }

  /** The replica after {@code id}, passing over {@code avoid} (if not null) unless no other is left. */
  private String nextOtherThan(String id, String avoid) {
    String candidate = next(id);
    return candidate.equals(avoid) && members.ids().size() > 2 ? next(candidate) : candidate;
  }

  /** How long a leader hint naming the replica a call just failed to reach is passed over. */
  static final long UNREACHABLE_HINT_IGNORED_NANOS = TimeUnit.SECONDS.toNanos(1);

  @Override
  public void close() {
    callers.shutdown();
    connections.values().forEach(c -> c.thenAccept(ReplicaConnection::close));
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }
}
