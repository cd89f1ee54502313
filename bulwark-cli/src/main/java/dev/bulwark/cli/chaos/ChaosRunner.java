package dev.bulwark.cli.chaos;

import dev.bulwark.cli.net.NetworkLab;
import dev.bulwark.client.BulwarkClient;
import dev.bulwark.client.ClientConfig;
import dev.bulwark.client.ReceiptRejectedException;
import dev.bulwark.client.RequestTimeoutException;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.ReceiptJson;
import dev.bulwark.ledger.Account;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerHistory;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.ledger.LedgerResult;
import dev.bulwark.store.keys.KeyFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Runs a chaos test: a cluster (started here in a temporary directory, or an existing one),
 * clients transferring and reading while the fault schedule is injected into the replicas'
 * processes, then healing, the final state collected and the checker's verdict. Every process
 * it starts and every process it pauses is dealt with at the end, also when interrupted (a
 * shutdown hook runs the same cleanup).
 */
public final class ChaosRunner {
  /**
   * A run's settings.
   *
   * @param existing a running cluster's directory to use instead of starting one
   * @param keep keep the temporary cluster directory (logs) after the run
   * @param pace how densely faults follow each other
   * @param minFreeBytes stop the faults and the workload early (then heal and check) below this much free disk; 0: never
   * @param restartNice how far below its peers' nice value a replica the schedule restarts runs until it has caught up
   *     (-20 to 0, see {@link RestartPriority})
   * @param tcpRtoMaxMs the bound on TCP's retransmission back-off in the replicas' network namespaces
   *     ({@link NetworkLab#capRetransmitBackoff}), or 0 to leave the kernel's
   */
  public record Options(long seed, FaultSchedule.Length length, FaultSchedule.Pace pace, int replicas, int clients,
      Optional<Path> existing, Path historyFile, boolean keep, Checker.ReadRule readRule, long minFreeBytes,
      int restartNice, int tcpRtoMaxMs) {
    public Options {
      new RestartPriority(restartNice); // refuses a value out of range
      if (tcpRtoMaxMs != 0) {
        try {
          NetworkLab.checkRetransmitBackoffMax(tcpRtoMaxMs);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(e.getMessage() + " (or 0 to keep the kernel's)", e);
        }
      }
      if (minFreeBytes < 0) {
        throw new IllegalArgumentException("the free-space floor is at least 0");
      }
      if (replicas < 3 || replicas > 9) {
        throw new IllegalArgumentException("chaos needs 3 to 9 replicas (a majority must survive a fault)");
      }
      if (clients < 1 || clients > 64) {
        throw new IllegalArgumentException("chaos runs 1 to 64 clients");
      }
    }
  }

  static final long INITIAL_BALANCE = 1_000;
  /** A --faults run may take this many times its planned length before the faults not yet injected are dropped. */
  static final int FAULTS_RUN_STRETCH_MAX = 8;
  /** Schedule lines printed at the start: a long run's thousands would bury the run's own output. */
  static final int SCHEDULE_PRINTED = 60;
  /** Ports of replicas in network namespaces: each has its own address, so the defaults are free. */
  static final int LAB_BASE_PORT = 7100;
  /** How often the run looks at the free disk space. */
  static final long DISK_CHECK_NANOS = 5_000_000_000L;

  private final Options options;
  private final ClusterControl control;
  private final PrintWriter out;
  private final AdminProbe probe = new AdminProbe();
  /** How a replica the schedule restarts is run until it has caught up. */
  private final RestartPriority restartPriority;
  /** Replicas running boosted, until they have caught up (then {@link #endBoost}). */
  private final Map<String, ProcessHandle> boosted = new ConcurrentHashMap<>();
  private final Map<String, ClusterControl.ReplicaInfo> replicas = new LinkedHashMap<>();
  /** The live process of each replica that chaos knows of (absent while killed). */
  private final Map<String, ProcessHandle> processes = new ConcurrentHashMap<>();
  private final Set<String> killed = ConcurrentHashMap.newKeySet();
  private final Set<String> paused = ConcurrentHashMap.newKeySet();
  private final List<ProcessHandle> started = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final AtomicBoolean cleaned = new AtomicBoolean();
  private final AtomicLong ids = new AtomicLong();
  private Path tempDir;
  private Path cluster;
  /** The network namespaces the replicas run in when partitions can be made, else null. */
  private volatile NetworkLab lab;
  /** Each replica's host in the lab. */
  private final Map<String, Integer> hostOf = new HashMap<>();
  private boolean partitionable;
  /** Runs once the replicas converged after healing, before the leader check (tests break the cluster here). */
  private java.util.function.Consumer<Map<String, ProcessHandle>> afterConverged = processes -> { };
  private java.util.function.ToLongFunction<Path> diskSpace = DiskWatch::usableSpace;
  private DiskWatch disk;
  /** Why the faults and the workload stopped before their time (free disk space ran short), else null. */
  private String stoppedEarly;
  /** How long each restarted replica took to catch up, and how many did not within {@link #CATCH_UP_WAIT}. */
  private final List<Long> caughtUpMillis = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final AtomicInteger notCaughtUp = new AtomicInteger();

  public ChaosRunner(Options options, ClusterControl control, PrintWriter out) {
    this.options = options;
    this.control = control;
    this.out = out;
    this.restartPriority = RestartPriority.mayRaise() ? new RestartPriority(options.restartNice()) : RestartPriority.NONE;
  }

  /**
   * For tests: {@code hook} gets each replica's live process once the healed replicas converged,
   * before the run looks for a leader to read the final state from; a test can take the cluster's
   * leader away there to drive the recovery that a Ratis deadlock needs.
   */
  public ChaosRunner afterConverged(java.util.function.Consumer<Map<String, ProcessHandle>> hook) {
    this.afterConverged = java.util.Objects.requireNonNull(hook);
    return this;
  }

  /** For tests: {@code usable} answers the usable bytes where a path is written, in place of its file store. */
  public ChaosRunner diskSpace(java.util.function.ToLongFunction<Path> usable) {
    this.diskSpace = java.util.Objects.requireNonNull(usable);
    return this;
  }

  /** Runs the whole test and returns the checker's report. */
  public ChaosReport run() throws Exception {
    Optional<String> noPartitions = whyNoPartitions(options.existing());
    List<Fault.Timed> schedule = FaultSchedule.plan(options.seed(), options.length(), noPartitions.isEmpty(), options.pace());
    out.printf("chaos: seed %d (replay with --seed %d%s), %d faults planned over %.0f s%n", options.seed(), options.seed(),
        options.pace() == FaultSchedule.Pace.STEADY ? "" : " --pace " + options.pace().name().toLowerCase(java.util.Locale.ROOT),
        schedule.stream().filter(t -> !(t.fault() instanceof Fault.RestartKilled)).count(),
        runMillis(schedule) / 1000.0);
    out.println(noPartitions.isEmpty()
        ? "each replica runs in a network namespace of its own, so partitions cut links between them"
        : "no network partitions: " + noPartitions.get() + "; injecting kills, pauses and restarts");
    if (options.restartNice() != 0 && !restartPriority.boosts()) {
      out.println("restarted replicas run at their peers' priority: a higher one (--restart-nice " + options.restartNice()
          + ") needs root (the CAP_SYS_NICE capability)");
    }
    schedule.stream().limit(SCHEDULE_PRINTED).forEach(t -> out.println("  " + t));
    if (schedule.size() > SCHEDULE_PRINTED) {
      out.printf("  ... and %,d more (--dry-run prints the whole schedule)%n", schedule.size() - SCHEDULE_PRINTED);
    }
    disk = new DiskWatch(List.of(options.historyFile(),
        options.existing().orElse(Path.of(System.getProperty("java.io.tmpdir")))), options.minFreeBytes(), diskSpace);
    disk.shortFor(DiskWatch.estimateBytes(options.length(), runMillis(schedule), options.clients())).ifPresent(out::println);
    out.flush();
    partitionable = noPartitions.isEmpty();
    Thread hook = new Thread(this::cleanup, "bulwark-chaos-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      startCluster();
      return drive(schedule);
    } finally {
      cleanup();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs (or ran) the same cleanup
      }
      probe.close();
    }
  }

  private long runMillis(List<Fault.Timed> schedule) {
    long planned = FaultSchedule.endMillis(schedule) + FaultSchedule.TAIL_MS;
    return options.length() instanceof FaultSchedule.Length.Duration d ? Math.max(d.millis(), planned) : planned;
  }

  // ---------------------------------------------------------------- the cluster

  private void startCluster() throws Exception {
    if (options.existing().isPresent()) {
      cluster = options.existing().get();
      for (ClusterControl.ReplicaInfo r : control.replicas(cluster)) {
        replicas.put(r.id(), r);
        ProcessHandle p = control.running(r.dir()).orElseThrow(() -> new IllegalStateException(
            r.id() + " of " + cluster + " is not running (start the cluster with 'bulwark cluster up')"));
        processes.put(r.id(), p);
      }
      out.println("using the running cluster in " + cluster);
    } else {
      tempDir = Files.createTempDirectory("bulwark-chaos-");
      cluster = tempDir.resolve("cluster");
      List<String> hosts;
      int base;
      if (partitionable) {
        NetworkLab.removeStale();
        lab = NetworkLab.create(options.replicas());
        if (options.tcpRtoMaxMs() > 0) {
          Optional<String> uncapped = lab.capRetransmitBackoff(options.tcpRtoMaxMs());
          out.println(uncapped.map(why -> "TCP's retransmission back-off keeps the kernel's bound: " + why)
              .orElse("TCP's retransmission back-off between replicas is capped at " + options.tcpRtoMaxMs()
                  + " ms (net.ipv4.tcp_rto_max_ms in their namespaces; --tcp-rto-max-ms)"));
        }
        hosts = lab.addresses();
        base = LAB_BASE_PORT; // every replica has an address of its own
      } else {
        hosts = java.util.Collections.nCopies(options.replicas(), "127.0.0.1");
        base = freeBasePort(options.replicas());
      }
      control.init(cluster, hosts, base);
      for (ClusterControl.ReplicaInfo r : control.replicas(cluster)) {
        replicas.put(r.id(), r);
        if (lab != null) {
          String host = r.adminAddress().substring(0, r.adminAddress().lastIndexOf(':'));
          hostOf.put(r.id(), lab.addresses().indexOf(host));
        }
        Process p = control.start(r.dir(), launcher(r.id()));
        started.add(p.toHandle());
        processes.put(r.id(), p.toHandle());
      }
      out.printf("started %d replicas in %s (%s)%n", replicas.size(), cluster, lab != null
          ? "network namespaces " + lab.namespace(0) + ".., addresses " + String.join(", ", hosts)
          : "ports from " + base);
    }
    out.flush();
    if (leader(Duration.ofSeconds(90)).isEmpty()) {
      throw new IllegalStateException("no leader within 90 s; see the replicas' logs in " + cluster);
    }
  }

  /** Why a run can make no network partitions here (empty: it can): with a cluster of its own, as root, with ip and nft. */
  public static Optional<String> whyNoPartitions(Optional<Path> existing) {
    return existing.isPresent()
        ? Optional.of("the replicas of an existing cluster (--cluster) are not in network namespaces of chaos's own")
        : NetworkLab.unavailableReason();
  }

  /** Runs a replica's command line as it is, or inside its host's network namespace. */
  private java.util.function.UnaryOperator<List<String>> launcher(String id) {
    NetworkLab l = lab;
    return l == null ? java.util.function.UnaryOperator.identity() : argv -> l.command(hostOf.get(id), argv);
  }

  /**
   * A base port whose Raft, client and admin ports for {@code n} replicas are all free now. Not
   * drawn from the seed's randomness: where the cluster listens is no part of the replayed schedule.
   */
  static int freeBasePort(int n) throws IOException {
    return dev.bulwark.cli.Ports.freeBasePort(n, java.util.OptionalInt.empty(), new SplittableRandom())
        .orElseThrow(() -> new IOException("no free port range found for " + n + " replicas"));
  }

  /** The replica that leads (the highest term's LEADER among live, unpaused replicas), waiting up to {@code wait}. */
  private Optional<String> leader(Duration wait) throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    do {
      String best = null;
      long bestTerm = -1;
      for (ClusterControl.ReplicaInfo r : replicas.values()) {
        if (killed.contains(r.id()) || paused.contains(r.id())) {
          continue;
        }
        Optional<AdminProbe.Status> s = probe.status(r.adminAddress());
        if (s.isPresent() && "LEADER".equals(s.get().role()) && s.get().term() > bestTerm) {
          best = r.id();
          bestTerm = s.get().term();
        }
      }
      if (best != null) {
        return Optional.of(best);
      }
      Thread.sleep(100);
    } while (System.nanoTime() < deadline);
    return Optional.empty();
  }

  // ---------------------------------------------------------------- the run

  private ChaosReport drive(List<Fault.Timed> schedule) throws Exception {
    Path adminKeyFile = cluster.resolve("admin.key");
    SigningKey admin = KeyFiles.readPrivateKey(adminKeyFile);
    PublicKey operator = KeyFiles.readPublicKey(cluster.resolve("operator.pub"));
    SecureRandom secure = new SecureRandom();
    String run = HexFormat.of().formatHex(secure.generateSeed(3));
    List<String> accounts = new ArrayList<>();
    List<SigningKey> owners = new ArrayList<>();
    for (int i = 0; i < options.clients(); i++) {
      accounts.add("chaos-" + run + "-" + i);
      owners.add(SigningKey.generate(secure));
    }
    AtomicBoolean stop = new AtomicBoolean();
    try (History.Writer history = new History.Writer(options.historyFile())) {
      // Accounts are opened and funded before the faults start; these operations are in the history too.
      try (BulwarkClient setup = new BulwarkClient(tuned(control.client(cluster, "chaos-setup")))) {
        Worker w = new Worker("setup", setup, history, admin, accounts, owners, -1, new SplittableRandom(options.seed()));
        for (int i = 0; i < accounts.size(); i++) {
          String account = accounts.get(i);
          w.open(account, owners.get(i));
          w.deposit(account, INITIAL_BALANCE);
        }
      }
      out.printf("opened %d accounts with %,d each; workload and faults start%n", accounts.size(), INITIAL_BALANCE);
      out.flush();
      List<Thread> workers = new ArrayList<>();
      List<BulwarkClient> clients = new ArrayList<>();
      for (int i = 0; i < options.clients(); i++) {
        BulwarkClient client = new BulwarkClient(tuned(control.client(cluster, "chaos-w" + i)));
        clients.add(client);
        Worker w = new Worker("w" + i, client, history, admin, accounts, owners, i,
            new SplittableRandom(options.seed() * 31 + i));
        workers.add(Thread.ofPlatform().name("chaos-w" + i).start(() -> w.loop(stop)));
      }
      long startNanos = System.nanoTime();
      Thread injector = Thread.ofPlatform().name("chaos-faults").start(() -> inject(schedule, history, startNanos, stop));
      long end = startNanos + runMillis(schedule) * 1_000_000;
      if (options.length() instanceof FaultSchedule.Length.Faults) {
        // A number of faults was asked for: the run lasts until the injector has injected them
        // all, however much slow restarts delayed it, within a bound (each fault's waits are bounded).
        long bound = startNanos + runMillis(schedule) * FAULTS_RUN_STRETCH_MAX * 1_000_000;
        if (awaitWithRoom(bound, injector::isAlive)) {
          end = Math.min(bound, Math.max(end, System.nanoTime() + FaultSchedule.TAIL_MS * 1_000_000));
        }
      }
      if (stoppedEarly == null) {
        awaitWithRoom(end, () -> true);
      }
      if (stoppedEarly != null) {
        out.println("stopping the faults and the workload early: " + stoppedEarly + "; healing and checking what ran");
        out.flush();
      }
      stop.set(true);
      injector.interrupt(); // it may be waiting for a restarted replica or in a pause; it resumes what it paused
      injector.join(60_000);
      for (Thread t : workers) {
        t.join(30_000);
      }
      clients.forEach(BulwarkClient::close);
    }
    heal();
    out.println("workload stopped, faults healed; waiting for the replicas to converge");
    out.flush();
    converge(Duration.ofSeconds(90));
    afterConverged.accept(Map.copyOf(processes));
    List<String> liveness = new ArrayList<>();
    if (leader(Duration.ofSeconds(10)).isEmpty()) {
      // The final state is read with linearizable reads, which a cluster without a leader cannot
      // answer. Ratis 3.2.0 can deadlock that way (docs/chaos.md) and a restart clears it; the
      // run still fails, since the cluster did not recover by itself.
      liveness.add("no leader after the faults healed: every replica was restarted to read the final state "
          + "(see docs/chaos.md, Known problem)");
      out.println("no leader after the faults healed; restarting every replica to read the final state");
      out.flush();
      restartAll();
      converge(Duration.ofSeconds(120));
    }
    FinalState state = collect(accounts);
    // Receipts are checked as the history is read and only bad ones kept: a long run writes gigabytes of them.
    List<History.Event> events = History.read(options.historyFile(), Checker.dropVerifiedReceipts(Optional.of(operator)));
    long planned = schedule.stream().filter(t -> !(t.fault() instanceof Fault.RestartKilled)).count();
    long injected = events.stream().filter(e -> e instanceof History.FaultEvent f && !f.kind().equals("restart")
        && !f.kind().equals("error") && !f.detail().startsWith("skipped")).count();
    if (injected < planned && stoppedEarly == null) {
      out.printf("injected %d of the %d planned faults: the others were skipped, or did not fit once slow restarts had "
          + "delayed the schedule%n", injected, planned);
    }
    ChaosReport report = Checker.check(events, state, Optional.of(operator), options.readRule());
    ChaosReport.Restarts restarts = new ChaosReport.Restarts(caughtUpMillis, notCaughtUp.get(), CATCH_UP_WAIT.toMillis());
    List<String> violations = new ArrayList<>(liveness);
    violations.addAll(report.violations());
    List<String> notes = new ArrayList<>(report.notes());
    if (stoppedEarly != null) {
      notes.add("the run ended early, after " + injected + " of " + planned + " planned faults: " + stoppedEarly);
    }
    return new ChaosReport(report.faults(), report.operations(), report.staleReads(), report.maxStaleBatches(),
        report.failoverMillis(), violations, notes, restarts);
  }

  /**
   * Sleeps until {@code until} (System.nanoTime) or until {@code going} turns false, looking at
   * the free disk space every few seconds; false, with {@link #stoppedEarly} set, when it fell
   * below the floor first.
   */
  private boolean awaitWithRoom(long until, java.util.function.BooleanSupplier going) throws InterruptedException {
    long nextCheck = System.nanoTime();
    while (System.nanoTime() < until && going.getAsBoolean()) {
      if (System.nanoTime() >= nextCheck) {
        Optional<String> low = disk.belowFloor();
        if (low.isPresent()) {
          stoppedEarly = low.get();
          return false;
        }
        nextCheck = System.nanoTime() + DISK_CHECK_NANOS;
      }
      Thread.sleep(200);
    }
    return true;
  }

  /** Stops every replica this run knows a process of (SIGKILL) and starts each again from its directory. */
  private void restartAll() throws IOException, InterruptedException {
    for (String id : List.copyOf(replicas.keySet())) {
      ProcessHandle p = processes.remove(id);
      if (p != null) {
        killAndWait(p);
      }
      restart(id);
    }
  }

  /** Short attempts, so a paused leader is left quickly; a bounded request time, so an unknown outcome is recorded. */
  private static ClientConfig tuned(ClientConfig c) {
    return new ClientConfig(c.replicas(), c.caCertificate(), c.operatorKey(), c.clientName(), 1, c.firstSequence(),
        Duration.ofMillis(1_000), Duration.ofSeconds(10), true, c.identity());
  }

  // ---------------------------------------------------------------- faults

  private void inject(List<Fault.Timed> schedule, History.Writer history, long startNanos, AtomicBoolean stop) {
    try {
      // When a fault takes longer than planned (a slow restart, a leader hard to find), the rest of
      // the schedule moves back by as much, so that the gaps between faults stay as planned.
      long lagNanos = 0;
      for (Fault.Timed t : schedule) {
        long due = startNanos + t.atMillis() * 1_000_000 + lagNanos;
        while (System.nanoTime() < due) {
          if (stop.get()) {
            return;
          }
          Thread.sleep(Math.max(1, Math.min(100, (due - System.nanoTime()) / 1_000_000)));
        }
        if (stop.get()) {
          return; // the run is over: a fault that fell behind the schedule is not injected late
        }
        restartExited(history);
        inject(t.fault(), history);
        long plannedEnd = due + FaultSchedule.endMillis(List.of(new Fault.Timed(0, t.fault()))) * 1_000_000;
        lagNanos += Math.max(0, System.nanoTime() - plannedEnd);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      say("the injector stopped: " + e);
      if (!stop.get()) {
        history.append(new History.FaultEvent(history.now(), "error", "", "the injector stopped: " + e));
      }
    }
  }

  private void inject(Fault fault, History.Writer history) throws InterruptedException, IOException {
    switch (fault) {
      case Fault.KillLeader k -> {
        Optional<String> leader = leader(Duration.ofSeconds(5));
        if (leader.isEmpty()) {
          skipped(history, fault, "no leader");
          return;
        }
        kill(leader.get(), fault, history);
      }
      case Fault.KillFollower k -> {
        Optional<String> follower = follower(k.pick());
        if (follower.isEmpty()) {
          skipped(history, fault, "no leader known, or no live follower");
          return;
        }
        kill(follower.get(), fault, history);
      }
      case Fault.PauseLeader p -> {
        Optional<String> leader = leader(Duration.ofSeconds(5));
        if (leader.isEmpty()) {
          skipped(history, fault, "no leader");
          return;
        }
        pause(leader.get(), p.millis(), fault, history);
      }
      case Fault.PauseFollower p -> {
        Optional<String> follower = follower(p.pick());
        if (follower.isEmpty()) {
          skipped(history, fault, "no leader known, or no live follower");
          return;
        }
        pause(follower.get(), p.millis(), fault, history);
      }
      case Fault.RestartKilled r -> {
        for (String id : List.copyOf(killed)) {
          long before = System.nanoTime();
          restart(id, restartPriority);
          history.append(new History.FaultEvent(history.now(), fault.kind(), id, "started again"));
          // The next fault waits until the replica is back, so that at most one is out at a time.
          boolean back;
          try {
            back = awaitCaughtUp(id, CATCH_UP_WAIT);
          } finally {
            endBoost(id); // its peers' priority before the next fault, or the healing at the end
          }
          long tookMillis = (System.nanoTime() - before) / 1_000_000;
          if (back) {
            caughtUpMillis.add(tookMillis);
          } else {
            notCaughtUp.incrementAndGet();
          }
          say(fault.kind() + " " + id + (back ? ", caught up again after " : ", still not caught up after ")
              + tookMillis + " ms");
        }
      }
      case Fault.IsolateLeader i -> {
        Optional<String> leader = leader(Duration.ofSeconds(5));
        if (leader.isEmpty()) {
          skipped(history, fault, "no leader");
          return;
        }
        partition(List.of(Set.of(leader.get())), i.millis(), fault, history);
      }
      case Fault.SplitCluster s -> {
        Optional<String> leader = leader(Duration.ofSeconds(5));
        Optional<String> follower = follower(s.pick());
        if (leader.isEmpty() || follower.isEmpty()) {
          skipped(history, fault, "no leader known, or no live follower");
          return;
        }
        partition(List.of(Set.of(leader.get(), follower.get())), s.millis(), fault, history);
      }
    }
  }

  private void say(String line) {
    synchronized (out) {
      out.println("  fault: " + line);
      out.flush();
    }
  }

  private void skipped(History.Writer history, Fault fault, String why) {
    history.append(new History.FaultEvent(history.now(), fault.kind(), "", "skipped: " + why));
    say(fault.kind() + " skipped: " + why);
  }

  private Optional<String> follower(int pick) throws InterruptedException {
    Optional<String> leader = leader(Duration.ofSeconds(5));
    if (leader.isEmpty()) {
      return Optional.empty(); // without a leader, any live replica might be about to lead
    }
    List<String> followers = replicas.keySet().stream()
        .filter(id -> !killed.contains(id) && !paused.contains(id) && !id.equals(leader.get())).sorted().toList();
    return followers.isEmpty() ? Optional.empty() : Optional.of(followers.get(pick % followers.size()));
  }

  private void kill(String id, Fault fault, History.Writer history) throws InterruptedException {
    ProcessHandle p = processes.remove(id);
    if (p == null) {
      skipped(history, fault, id + " has no process");
      return;
    }
    killed.add(id);
    history.append(new History.FaultEvent(history.now(), fault.kind(), id, "SIGKILL pid " + p.pid()));
    say(fault.kind() + " " + id + " (pid " + p.pid() + ")");
    killAndWait(p);
  }

  /** SIGKILL, then up to 10 s for the process to be gone (a stopped process dies too). */
  private void killAndWait(ProcessHandle p) throws InterruptedException {
    p.destroyForcibly();
    try {
      p.onExit().get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      say("pid " + p.pid() + " still alive 10 s after SIGKILL");
    }
  }

  private void pause(String id, long millis, Fault fault, History.Writer history) throws InterruptedException, IOException {
    ProcessHandle p = processes.get(id);
    if (p == null) {
      skipped(history, fault, id + " has no process");
      return;
    }
    paused.add(id);
    signal(p, "STOP");
    history.append(new History.FaultEvent(history.now(), fault.kind(), id, "SIGSTOP pid " + p.pid() + " for " + millis + " ms"));
    say(fault.kind() + " " + id + " for " + millis + " ms");
    try {
      Thread.sleep(millis);
    } finally {
      signal(p, "CONT");
      paused.remove(id);
    }
  }

  /**
   * Cuts every link between the replicas of {@code groups} and everyone outside their group
   * (the rest form one more side) for {@code millis}, then heals. Clients keep reaching every
   * replica: a cut-off leader still takes requests it can no longer commit.
   */
  private void partition(List<Set<String>> groups, long millis, Fault fault, History.Writer history)
      throws InterruptedException, IOException {
    NetworkLab l = lab;
    if (l == null) {
      skipped(history, fault, "no network namespaces");
      return;
    }
    List<Set<Integer>> sides = new ArrayList<>();
    Set<String> rest = new java.util.TreeSet<>(replicas.keySet());
    for (Set<String> group : groups) {
      sides.add(group.stream().map(hostOf::get).collect(java.util.stream.Collectors.toSet()));
      rest.removeAll(group);
    }
    sides.add(rest.stream().map(hostOf::get).collect(java.util.stream.Collectors.toSet()));
    String description = groups.stream().map(g -> String.join("+", new java.util.TreeSet<>(g)))
        .collect(java.util.stream.Collectors.joining(" | ")) + " | " + String.join("+", rest);
    // Recorded once the rules are in place (a few nft calls, slow on a loaded machine), so that
    // the failover is timed from the cut itself.
    l.partition(sides);
    history.append(new History.FaultEvent(history.now(), fault.kind(), String.join("+", new java.util.TreeSet<>(groups.getFirst())),
        "cut links " + description + " for " + millis + " ms"));
    say(fault.kind() + " " + description + " for " + millis + " ms");
    try {
      Thread.sleep(millis);
    } finally {
      l.heal();
    }
  }

  private static void signal(ProcessHandle p, String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).redirectErrorStream(true).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS)) {
      kill.destroyForcibly();
      throw new IOException("kill -" + signal + " " + p.pid() + " did not finish");
    }
  }

  /**
   * Restarts, as a supervisor would, each replica that exited on its own: one that halted on
   * Ratis' step-down deadlock (exit status 75, see {@code ServeCommand}), or crashed. A paused
   * replica is still alive, and a killed one is restarted by the schedule.
   */
  private void restartExited(History.Writer history) throws IOException {
    for (String id : takeExited()) {
      say(id + " exited on its own (see its replica.log); restarting it");
      restart(id);
      history.append(new History.FaultEvent(history.now(), "restart", id, "exited on its own; started again"));
    }
  }

  /** The replicas whose process is gone though this run did not kill it, taken out of the live ones. */
  private List<String> takeExited() {
    List<String> exited = new ArrayList<>();
    for (var entry : List.copyOf(processes.entrySet())) {
      if (!entry.getValue().isAlive() && processes.remove(entry.getKey(), entry.getValue())) {
        exited.add(entry.getKey());
      }
    }
    return exited;
  }

  private void restart(String id) throws IOException {
    restart(id, RestartPriority.NONE);
  }

  /** Starts killed replica {@code id} again, boosted by {@code priority} until {@link #endBoost}. */
  private void restart(String id, RestartPriority priority) throws IOException {
    java.util.function.UnaryOperator<List<String>> inPlace = launcher(id);
    Process p = control.start(replicas.get(id).dir(), argv -> priority.launch(inPlace.apply(argv)));
    if (priority.boosts()) {
      boosted.put(id, p.toHandle());
    }
    started.add(p.toHandle());
    processes.put(id, p.toHandle());
    killed.remove(id);
  }

  /**
   * Whether replica {@code id} is back within {@code wait}: it answers as a follower (or leader)
   * and has applied the log to within {@value #CAUGHT_UP_SLACK} entries of what the leader has
   * applied. A replica answers as a follower the moment it starts, long before it could stand
   * in for a lost member of the majority; the next fault waits for the latter.
   */
  private boolean awaitCaughtUp(String id, Duration wait) throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<AdminProbe.Status> s = probe.status(replicas.get(id).adminAddress());
      if (s.isPresent() && ("FOLLOWER".equals(s.get().role()) || "LEADER".equals(s.get().role()))) {
        if ("LEADER".equals(s.get().role())) {
          return true;
        }
        Optional<String> leader = leader(Duration.ZERO);
        Optional<AdminProbe.Status> l = leader.flatMap(x -> probe.status(replicas.get(x).adminAddress()));
        if (l.isPresent() && s.get().appliedIndex() >= l.get().appliedIndex() - CAUGHT_UP_SLACK) {
          return true;
        }
      }
      Thread.sleep(200);
    }
    return false;
  }

  /** How long the next fault waits for a restarted replica to catch up before it goes on anyway. */
  static final Duration CATCH_UP_WAIT = Duration.ofSeconds(60);

  /** How far behind the leader's applied index a restarted replica may be and count as back. */
  static final long CAUGHT_UP_SLACK = 16;

  /** Puts replica {@code id}, if it runs boosted, back at its peers' priority; says so if some threads stay boosted. */
  private void endBoost(String id) throws IOException {
    ProcessHandle p = boosted.remove(id);
    if (p != null) {
      int left = restartPriority.restore(p);
      if (left > 0) {
        out.println("warning: " + left + " threads of " + id + " (pid " + p.pid() + ") still run at a higher priority");
      }
    }
  }

  /** Heals partitions, resumes paused replicas and restarts killed ones, so that all can converge. */
  private void heal() throws IOException, InterruptedException {
    for (String id : List.copyOf(boosted.keySet())) {
      endBoost(id);
    }
    NetworkLab l = lab;
    if (l != null) {
      l.heal();
    }
    for (String id : List.copyOf(paused)) {
      ProcessHandle p = processes.get(id);
      if (p != null) {
        signal(p, "CONT");
      }
      paused.remove(id);
    }
    killed.addAll(takeExited());
    for (String id : List.copyOf(killed)) {
      restart(id);
    }
  }

  // ---------------------------------------------------------------- the end

  /** Waits until every replica answers with the same applied index twice in a row. */
  private void converge(Duration wait) throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    long previous = -1;
    while (System.nanoTime() < deadline) {
      Set<Long> applied = new HashSet<>();
      boolean all = true;
      for (ClusterControl.ReplicaInfo r : replicas.values()) {
        Optional<AdminProbe.Status> s = probe.status(r.adminAddress());
        all &= s.isPresent();
        s.ifPresent(x -> applied.add(x.appliedIndex()));
      }
      if (all && applied.size() == 1) {
        long index = applied.iterator().next();
        if (index == previous) {
          return;
        }
        previous = index;
      } else {
        previous = -1;
      }
      Thread.sleep(500);
    }
    out.println("the replicas did not converge within " + wait.toSeconds() + " s; checking what they hold");
  }

  private FinalState collect(List<String> accounts) throws Exception {
    List<FinalState.Replica> finals = new ArrayList<>();
    for (ClusterControl.ReplicaInfo r : replicas.values()) {
      Optional<AdminProbe.Status> s = probe.status(r.adminAddress());
      Map<Long, String> heads = s.isPresent() ? probe.heads(r.adminAddress(), s.get().latestHeadBatch()) : Map.of();
      finals.add(new FinalState.Replica(r.id(), s.map(x -> new FinalState.Status(x.appliedIndex(), x.appliedBatch(),
          x.stateDigest())), heads));
    }
    Map<String, FinalState.Applied> applied = new HashMap<>();
    Map<String, Long> balances = new HashMap<>();
    // A cluster that cannot answer these reads (no leader, a leader that cannot serve them) fails
    // the run with a report that says so, rather than ending it without one.
    try (BulwarkClient client = new BulwarkClient(control.client(cluster, "chaos-check"))) {
      for (String account : accounts) {
        long batch = 0;
        int index = 0;
        boolean more = true;
        for (int pages = 0; more && pages < 10_000; pages++) {
          LedgerHistory.Page page = LedgerHistory.PAGE.decode(client.appQuery(LedgerHistory.QUERY,
              LedgerHistory.REQUEST.encode(new LedgerHistory.Request(account, batch, index, LedgerHistory.PAGE_MAX))));
          for (LedgerHistory.Item item : page.items()) {
            applied.putIfAbsent(item.batchNumber() + "/" + item.indexInBatch(),
                new FinalState.Applied(item.batchNumber(), item.indexInBatch(), op(item.request().op())));
            batch = item.batchNumber();
            index = item.indexInBatch() + 1;
          }
          more = page.more();
        }
        var entry = client.query(Ledger.ACCOUNTS.keyBytes(account));
        entry.value().ifPresent(v -> balances.put(account, Account.CODEC.decode(v).balance()));
      }
    } catch (RuntimeException e) {
      out.println("could not read the ledger's final state: " + e.getMessage());
      out.flush();
      return FinalState.ledgerUnreadable(finals, e.getClass().getSimpleName() + ": " + e.getMessage());
    }
    List<FinalState.Applied> ordered = applied.values().stream()
        .sorted(Comparator.comparingLong(FinalState.Applied::batch).thenComparingInt(FinalState.Applied::index)).toList();
    return new FinalState(finals, ordered, balances);
  }

  static History.Op op(LedgerOp op) {
    return switch (op) {
      case LedgerOp.OpenAccount o -> new History.Open(o.account());
      case LedgerOp.Deposit d -> new History.Deposit(d.account(), d.amount(), d.reference().hex());
      case LedgerOp.Withdraw w -> new History.Withdraw(w.account(), w.amount(), w.reference().hex());
      case LedgerOp.Transfer t -> new History.Transfer(t.from(), t.to(), t.amount(), t.nonce());
    };
  }

  /** Resumes what is paused; stops what this run started and removes its directory, or restarts what it killed in an existing cluster. */
  private void cleanup() {
    if (!cleaned.compareAndSet(false, true)) {
      return;
    }
    for (String id : paused) {
      ProcessHandle p = processes.get(id);
      if (p != null) {
        try {
          signal(p, "CONT");
        } catch (IOException | InterruptedException e) {
          p.destroyForcibly();
        }
      }
    }
    if (options.existing().isPresent()) {
      for (String id : List.copyOf(boosted.keySet())) {
        try {
          endBoost(id); // the user's replica goes on at its peers' priority
        } catch (IOException e) {
          out.println("could not restore the priority of " + id + ": " + e.getMessage());
        }
      }
      for (String id : List.copyOf(killed)) {
        try {
          restart(id);
          out.println("restarted " + id + " of the existing cluster");
        } catch (IOException e) {
          out.println("could not restart " + id + ": " + e.getMessage());
        }
      }
      return;
    }
    started.forEach(ProcessHandle::destroy);
    for (ProcessHandle p : started) {
      try {
        p.onExit().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        p.destroyForcibly();
      }
    }
    NetworkLab l = lab;
    if (l != null) {
      l.close(); // kills anything still in its namespaces, then removes them, the veths and the bridge
    }
    if (tempDir != null && !options.keep()) {
      try (Stream<Path> all = Files.walk(tempDir)) {
        for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      } catch (IOException e) {
        out.println("could not remove " + tempDir + ": " + e.getMessage());
      }
    } else if (tempDir != null) {
      out.println("kept the cluster directory " + cluster);
    }
    out.flush();
  }

  // ---------------------------------------------------------------- the workload

  /**
   * One client: transfers from its own account (it alone spends from it, so it knows the
   * nonce), reads any account's balance, and deposits and withdraws with the admin key; every
   * operation is recorded with its outcome.
   */
  private final class Worker {
    private final String name;
    private final BulwarkClient client;
    private final History.Writer history;
    private final SigningKey admin;
    private final List<String> accounts;
    private final List<SigningKey> owners;
    private final int own;
    private final SplittableRandom random;
    private final Set<String> sent = new HashSet<>();
    private long nextNonce = 1;

    Worker(String name, BulwarkClient client, History.Writer history, SigningKey admin, List<String> accounts,
        List<SigningKey> owners, int own, SplittableRandom random) {
      this.name = name;
      this.client = client;
      this.history = history;
      this.admin = admin;
      this.accounts = accounts;
      this.owners = owners;
      this.own = own;
      this.random = random;
    }

    void loop(AtomicBoolean stop) {
      try {
        while (!stop.get()) {
          int roll = random.nextInt(100);
          if (roll < 55) {
            transfer();
          } else if (roll < 85) {
            read(accounts.get(random.nextInt(accounts.size())));
          } else if (roll < 95) {
            deposit(accounts.get(own), 1 + random.nextLong(100));
          } else {
            History.Withdraw w = new History.Withdraw(accounts.get(own), 1 + random.nextLong(100), reference());
            write(w, new LedgerOp.Withdraw(w.account(), w.amount(), Bytes.fromHex(w.reference())), admin);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private String reference() {
      byte[] r = new byte[12];
      random.nextBytes(r);
      return HexFormat.of().formatHex(r);
    }

    /**
     * Opens the account, trying again (up to 10 times) while the outcome stays unknown and a read
     * does not show it open: a slow start must not leave a client without its account.
     */
    void open(String account, SigningKey owner) throws InterruptedException {
      for (int attempt = 0; attempt < 10; attempt++) {
        History.Completion c = write(new History.Open(account), new LedgerOp.OpenAccount(account, owner.publicKey()), owner);
        if (c.outcome() == History.Outcome.OK || c.outcome() == History.Outcome.FAILED) {
          return; // opened, or refused because an earlier attempt did open it
        }
        History.Completion r = read(account);
        if (r.outcome() == History.Outcome.OK && r.balance() >= 0) {
          return;
        }
      }
      throw new IllegalStateException("could not open account " + account + " in 10 attempts");
    }

    void deposit(String account, long amount) throws InterruptedException {
      History.Deposit d = new History.Deposit(account, amount, reference());
      write(d, new LedgerOp.Deposit(account, amount, Bytes.fromHex(d.reference())), admin);
    }

    private void transfer() throws InterruptedException {
      String from = accounts.get(own);
      History.Transfer t = null;
      for (int attempt = 0; attempt < 50 && t == null; attempt++) {
        String to = accounts.get(random.nextInt(accounts.size()));
        History.Transfer candidate = new History.Transfer(from, to, 1 + random.nextLong(50), nextNonce);
        if (!to.equals(from) && !sent.contains(candidate.key())) {
          t = candidate;
        }
      }
      if (t == null) {
        return;
      }
      sent.add(t.key());
      History.Completion c = write(t, new LedgerOp.Transfer(t.from(), t.to(), t.amount(), t.nonce()), owners.get(own));
      if (c.outcome() == History.Outcome.OK) {
        nextNonce = t.nonce() + 1;
      } else {
        // Refused (a stale nonce?) or unknown: learn the nonce again from a proven read.
        History.Completion r = read(from);
        if (r.outcome() == History.Outcome.OK && r.balance() >= 0) {
          nextNonce = lastReadNonce + 1;
        }
      }
    }

    private long lastReadNonce;

    History.Completion read(String account) throws InterruptedException {
      long id = ids.incrementAndGet();
      history.append(new History.Invoke(history.now(), name, id, new History.Read(account)));
      History.Completion c;
      try {
        BulwarkClient.ProvenEntry entry = client.query(Ledger.ACCOUNTS.keyBytes(account));
        long balance = -1;
        if (entry.value().isPresent()) {
          Account a = Account.CODEC.decode(entry.value().get());
          balance = a.balance();
          lastReadNonce = a.nonce();
        }
        c = new History.Completion(History.Outcome.OK, -1, balance, "", Optional.of(new History.HeadRef(
            entry.head().head().batchNumber(), entry.head().head().hash().hex())), Optional.empty());
      } catch (RequestTimeoutException e) {
        c = History.Completion.of(History.Outcome.UNKNOWN, "timeout: " + e.getMessage());
      } catch (ReceiptRejectedException e) {
        c = History.Completion.of(e.getMessage().contains("no signed head") ? History.Outcome.UNKNOWN
            : History.Outcome.INVALID_PROOF, e.getMessage());
      } catch (RuntimeException e) {
        c = History.Completion.of(History.Outcome.UNKNOWN, "client error: " + e);
      }
      history.append(new History.Complete(history.now(), name, id, c));
      return c;
    }

    History.Completion write(History.Op op, LedgerOp ledgerOp, SigningKey key) throws InterruptedException {
      long id = ids.incrementAndGet();
      Bytes payload = LedgerRequest.CODEC.encode(LedgerRequest.sign(ledgerOp, key));
      history.append(new History.Invoke(history.now(), name, id, op));
      History.Completion c;
      try {
        c = completion(client.submit(payload));
      } catch (RequestTimeoutException e) {
        c = History.Completion.of(History.Outcome.UNKNOWN, "timeout" + e.lastOutcome().map(o -> ", last answer " + o).orElse(""));
      } catch (ReceiptRejectedException e) {
        c = History.Completion.of(History.Outcome.INVALID_PROOF, e.getMessage());
      } catch (RuntimeException e) {
        c = History.Completion.of(History.Outcome.UNKNOWN, "client error: " + e);
      }
      history.append(new History.Complete(history.now(), name, id, c));
      return c;
    }

    private History.Completion completion(Outcome outcome) {
      return switch (outcome) {
        case Outcome.Confirmed c when c.result() instanceof ResultEnvelope.Applied a -> {
          LedgerResult r = LedgerResult.CODEC.decode(a.result());
          yield new History.Completion(History.Outcome.OK, c.receipt().confirmation().batchNumber(), r.balance(), "",
              head(c.receipt()), Optional.of(ReceiptJson.write(c.receipt())));
        }
        case Outcome.Confirmed c when c.result() instanceof ResultEnvelope.Refused refused ->
            new History.Completion(History.Outcome.FAILED, c.receipt().confirmation().batchNumber(), -1,
                "refused " + refused.code() + " " + refused.message(), head(c.receipt()),
                Optional.of(ReceiptJson.write(c.receipt())));
        case Outcome.Confirmed c -> History.Completion.of(History.Outcome.UNKNOWN, "confirmed with an unknown result");
        case Outcome.Rejected r -> History.Completion.of(History.Outcome.FAILED, "rejected " + r.code() + " " + r.message());
        case Outcome.NotCommitted n -> History.Completion.of(History.Outcome.NOT_COMMITTED, n.reason());
        default -> History.Completion.of(History.Outcome.UNKNOWN, outcome.toString());
      };
    }

    private static Optional<History.HeadRef> head(Receipt receipt) {
      return receipt instanceof Receipt.PerBatch b
          ? Optional.of(new History.HeadRef(b.head().head().batchNumber(), b.head().head().hash().hex()))
          : Optional.empty();
    }
  }
}
