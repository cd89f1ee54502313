package dev.bulwark.cli;

import dev.bulwark.client.BulwarkClient;
import dev.bulwark.client.ClientConfig;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.Frame;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.ReceiptJson;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.ledger.Account;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.store.keys.KeyFiles;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLSocket;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The README's main job, with real processes: a fresh three-replica cluster (as 'cluster init'
 * writes it) started as background JVMs (as 'cluster up' starts them), signed transfers through
 * the Java client, the leader's process killed with SIGKILL mid-load, then restarted to catch
 * up; afterwards a sample of receipts is checked offline, the balances are added up, and each
 * replica is asked directly for its latest signed batch head. Separate processes matter: an
 * in-process "stop" cannot show what a dead leader's lost memory, sockets and timers do.
 *
 * <p>Every process the demo starts is stopped before it returns, on failure and on Ctrl-C too
 * (a shutdown hook). Exit status 0 when every check passed, 1 when one failed.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Create a three-replica cluster in a temporary directory, start it as processes, send signed "
        + "transfers, kill the leader with SIGKILL mid-run, restart it, and check receipts, balances and that every "
        + "replica reports the same state digest. Stops everything it started.",
        "Exit 0 when every check passed, 1 when one failed, 2 on a usage error."})
final class DemoCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--duration", defaultValue = "30", paramLabel = "SECONDS",
      description = "How long the transfer load runs (5 to 600, default ${DEFAULT-VALUE}).")
  int durationSeconds;

  @Option(names = "--accounts", defaultValue = "16",
      description = "Accounts, each sending one signed transfer at a time (2 to 256, default ${DEFAULT-VALUE}).")
  int accounts;

  @Option(names = "--dir", paramLabel = "DIR",
      description = "The cluster directory, kept afterwards (default: a temporary one, deleted at the end).")
  Path directory;

  @Option(names = "--keep", description = "Keep the temporary directory (the replicas' data and logs) afterwards.")
  boolean keep;

  static final long DEPOSIT = 1_000_000;
  private static final int RECEIPT_SAMPLE = 256;
  private static final String KILLED = "killed";

  private PrintWriter out;

  @Override
  public Integer call() throws Exception {
    if (durationSeconds < 5 || durationSeconds > 600) {
      throw new UserError("--duration must be between 5 and 600 seconds");
    }
    if (accounts < 2 || accounts > 256) {
      throw new UserError("--accounts must be between 2 and 256");
    }
    Directories.requireFreshOrAbsent(directory, "the demo creates a fresh cluster");
    out = spec.commandLine().getOut();
    Path dir = directory != null ? directory : Directories.temporary("bulwark-demo-");
    boolean delete = directory == null && !keep;
    Processes processes = new Processes();
    Thread onExit = new Thread(() -> {
      int stopped = processes.stopAll();
      if (stopped > 0) {
        System.err.println("bulwark demo: interrupted; stopped " + stopped + " replica process(es)");
      }
      if (delete) {
        Directories.deleteTree(dir);
      }
    }, "bulwark-demo-cleanup");
    Runtime.getRuntime().addShutdownHook(onExit);
    try {
      return new Run(dir, processes).run() ? 0 : 1;
    } finally {
      processes.stopAll();
      try {
        Runtime.getRuntime().removeShutdownHook(onExit);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run; it cleans up
      }
      if (delete) {
        Directories.deleteTree(dir);
      } else {
        out.println("the cluster directory is kept: " + dir);
      }
      out.flush();
    }
  }

  /** The replica processes this demo started, and only those: it stops them all, never anything else. */
  static final class Processes {
    private final List<Process> started = new ArrayList<>();
    private boolean closed;

    synchronized Process start(Path replicaDir) throws IOException {
      if (closed) {
        throw new IllegalStateException("the demo is stopping; no replica is started any more");
      }
      Process p = ClusterCommand.startReplica(replicaDir, false);
      started.add(p);
      return p;
    }

    synchronized boolean ours(ProcessHandle handle) {
      return started.stream().anyMatch(p -> p.pid() == handle.pid());
    }

    synchronized List<Long> pids() {
      return started.stream().map(Process::pid).toList();
    }

    synchronized boolean anyAlive() {
      return started.stream().anyMatch(Process::isAlive);
    }

    /** SIGTERM to every live one, SIGKILL to those still alive after 15 s; returns how many were alive. */
    synchronized int stopAll() {
      closed = true;
      List<Process> alive = started.stream().filter(Process::isAlive).toList();
      alive.forEach(Process::destroy);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      for (Process p : alive) {
        try {
          if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
          }
        } catch (InterruptedException e) {
          p.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
      return alive.size();
    }
  }

  /** Receipts kept for the offline check: a uniform sample (reservoir) of everything confirmed. */
  static final class ReceiptSample {
    private final List<Receipt> kept = new ArrayList<>();
    private final SecureRandom random = new SecureRandom();
    private long seen;

    synchronized void offer(Receipt r) {
      seen++;
      if (kept.size() < RECEIPT_SAMPLE) {
        kept.add(r);
      } else {
        long slot = random.nextLong(seen);
        if (slot < RECEIPT_SAMPLE) {
          kept.set((int) slot, r);
        }
      }
    }

    synchronized List<Receipt> receipts() {
      return List.copyOf(kept);
    }
  }

  /** One signed head as a replica reported it, answering a query sent to that replica alone. */
  record ReportedHead(String replica, SignedBatchHead signed) {
    long batch() {
      return signed.head().batchNumber();
    }
  }

  /** The demo's figures, filled in as it goes; -1 where a step did not happen. */
  static final class Figures {
    long confirmed;
    double loadSeconds;
    long medianPerSecond = -1;
    String killedReplica = "-";
    long failoverMs = -1;
    String newLeader = "-";
    volatile long answeringMs = -1;
    volatile long catchUpMs = -1;
    volatile long caughtUpBatch = -1;
    int receiptsValid;
    int receiptsChecked;
    long balanceTotal = -1;
    long nonceTotal = -1;
    Optional<ReportedHead> agreed = Optional.empty();
    String disagreement = "not checked";
    String audit = "not checked";
    boolean audited;
    boolean noneLeft;
  }

  /** One run of the demo in {@code dir}. */
  private final class Run {
    private final Path dir;
    private final Processes processes;
    private final Figures figures = new Figures();
    private final Map<String, ReplicaSettings> settings = new LinkedHashMap<>();
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private PublicKey operatorKey;

    Run(Path dir, Processes processes) {
      this.dir = dir;
      this.processes = processes;
    }

    private void step(String text) {
      out.println(text);
      out.flush();
    }

    boolean run() {
      boolean checksPassed = false;
      try {
        step("1. Create a cluster of 3 replicas in " + dir + " (keys, certificates, replica.properties: as 'cluster init')");
        createCluster();
        step("2. Start each replica as its own background process (as 'cluster up')");
        long t0 = System.nanoTime();
        for (Path rdir : ClusterCommand.replicaDirs(dir)) {
          Process p = processes.start(rdir);
          out.printf("   %s: pid %d, log %s%n", rdir.getFileName(), p.pid(), rdir.resolve("replica.log"));
        }
        out.flush();
        Optional<List<String>> led = ClusterCommand.awaitStatus(dir, l -> l.endsWith("leads"), 600);
        if (led.isEmpty()) {
          failures.add("no leader within 60 s of the start; see the replicas' logs");
        } else {
          String first = led.get().stream().filter(l -> l.endsWith("leads")).findFirst().orElseThrow().split("\\s+")[0];
          out.printf("   %s leads, %.1f s after the first start%n", first, (System.nanoTime() - t0) / 1e9);
          checksPassed = load(first);
        }
      } catch (UserError e) {
        throw e;
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        failures.add("the demo stopped early: " + e);
      }
      return summaryAfterStop(checksPassed);
    }

    private void createCluster() throws IOException {
      StringWriter initOut = new StringWriter();
      StringWriter initErr = new StringWriter();
      var cli = BulwarkCommand.commandLine();
      cli.setOut(new PrintWriter(initOut, true));
      cli.setErr(new PrintWriter(initErr, true));
      int exit = cli.execute("cluster", "init", dir.toString(), "--base-port", Integer.toString(freeBasePort()),
          "--name", "demo");
      if (exit != 0) {
        throw new UserError("cannot create the demo cluster: " + (initOut + " " + initErr).strip());
      }
      for (Path rdir : ClusterCommand.replicaDirs(dir)) {
        ReplicaSettings s = ReplicaSettings.read(rdir.resolve("replica.properties"));
        settings.put(s.id(), s);
      }
      operatorKey = KeyFiles.readPublicKey(dir.resolve("operator.pub"));
      out.printf("   replicas %s, clients on %s; operator key %s%n", String.join(", ", settings.keySet()),
          String.join(", ", settings.values().iterator().next().ingressPeers().values()), operatorKey.fingerprint());
    }

    private boolean load(String firstLeader) throws Exception {
      SecureRandom random = new SecureRandom();
      SigningKey admin = KeyFiles.readPrivateKey(dir.resolve("admin.key"));
      byte[] tag = new byte[3];
      random.nextBytes(tag);
      ReplicaSettings any = settings.values().iterator().next();
      try (BulwarkClient client = new BulwarkClient(ClientConfig.defaults(any.ingressPeers(), dir.resolve("ca.crt"),
          operatorKey, "demo-" + HexFormat.of().formatHex(tag)).withLanes(accounts));
          ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
        step("3. Open " + accounts + " accounts, each signed by its owner's key, and deposit " + String.format("%,d", DEPOSIT)
            + " into each (signed by the admin key)");
        List<SigningKey> owners = new ArrayList<>();
        List<Future<Outcome>> setup = new ArrayList<>();
        for (int i = 0; i < accounts; i++) {
          SigningKey owner = SigningKey.generate(random);
          owners.add(owner);
          String name = account(i);
          setup.add(threads.submit(() -> {
            applied(client.submit(LedgerCommands.payload(new LedgerOp.OpenAccount(name, owner.publicKey()), owner)));
            return applied(client.submit(LedgerCommands.payload(new LedgerOp.Deposit(name, DEPOSIT, Bytes.utf8(name)), admin)));
          }));
        }
        for (Future<Outcome> f : setup) {
          f.get(60, TimeUnit.SECONDS);
        }
        step(String.format("4. Signed transfers for %d s, one in flight per account, every receipt checked by the client; "
            + "the leader is killed (SIGKILL) a third of the way in, then restarted", durationSeconds));
        Transfers transfers = new Transfers(client, owners);
        for (int i = 0; i < accounts; i++) {
          int from = i;
          transfers.payers.add(threads.submit(() -> transfers.pay(from)));
        }
        try {
          drive(transfers, firstLeader, threads);
        } finally {
          transfers.stop = true; // else closing the executor would wait for payers that never end
        }
        for (Future<?> payer : transfers.payers) {
          payer.get(60, TimeUnit.SECONDS);
        }
        figures.confirmed = transfers.confirmed.get();
        figures.loadSeconds = (transfers.lastConfirmedAt.get() - transfers.startedAt) / 1e9;
        return check(client, transfers);
      }
    }

    /** The signed-transfer load: one virtual thread per account, each with one transfer in flight. */
    private final class Transfers {
      final BulwarkClient client;
      final List<SigningKey> owners;
      final List<Future<?>> payers = new ArrayList<>();
      final AtomicLong confirmed = new AtomicLong();
      final ReceiptSample sample = new ReceiptSample();
      final long startedAt = System.nanoTime();
      final AtomicLong lastConfirmedAt = new AtomicLong(startedAt);
      /** When the killed leader's process was seen dead (0 before), and the first confirmation after that. */
      volatile long deadAt;
      final AtomicLong firstAfterKill = new AtomicLong();
      volatile Receipt firstReceiptAfterKill;
      volatile boolean stop;

      Transfers(BulwarkClient client, List<SigningKey> owners) {
        this.client = client;
        this.owners = owners;
      }

      void pay(int from) {
        try {
          for (long nonce = 1; !stop && failures.isEmpty(); nonce++) {
            int to = (from + 1 + (int) (nonce % (accounts - 1))) % accounts;
            Outcome o = client.submit(LedgerCommands.payload(
                new LedgerOp.Transfer(account(from), account(to), 1 + nonce % 5, nonce), owners.get(from)));
            Outcome.Confirmed c = applied(o);
            long now = System.nanoTime();
            confirmed.incrementAndGet();
            lastConfirmedAt.accumulateAndGet(now, Math::max);
            long dead = deadAt;
            if (dead != 0 && now > dead && firstAfterKill.compareAndSet(0, now)) {
              firstReceiptAfterKill = c.receipt();
            }
            sample.offer(c.receipt());
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          failures.add(account(from) + "'s transfers were interrupted");
        } catch (RuntimeException e) {
          failures.add(account(from) + "'s transfer failed: " + e.getMessage());
        }
      }
    }

    /**
     * The demo's clock, ticking every 100 ms: a progress line each second, the kill a third of
     * the way in, the restart a second after the first confirmation that followed it. A watcher
     * thread follows the restarted replica until it has applied the leader's latest batch.
     */
    private void drive(Transfers load, String firstLeader, ExecutorService threads) throws Exception {
      long start = load.startedAt;
      long end = start + TimeUnit.SECONDS.toNanos(durationSeconds);
      long killAfter = start + TimeUnit.SECONDS.toNanos(durationSeconds) / 3;
      long giveUp = end + TimeUnit.SECONDS.toNanos(120);
      String leader = firstLeader;
      String killed = null;
      long killedAt = 0;
      Future<?> watcher = null;
      long lastConfirmed = 0;
      long lastTick = start;
      long nextTick = start + TimeUnit.SECONDS.toNanos(1);
      List<Long> perSecond = new ArrayList<>();
      boolean loadRunning = true;
      while (System.nanoTime() < giveUp && failures.isEmpty()) {
        long now = System.nanoTime();
        if (killed == null && now >= killAfter) {
          Optional<String> leading = leaderNow(leader);
          if (leading.isPresent()) {
            killed = leading.get();
            killedAt = kill(killed, load);
            leader = KILLED;
          }
        }
        if (killed != null && figures.failoverMs < 0 && load.firstAfterKill.get() != 0) {
          figures.failoverMs = TimeUnit.NANOSECONDS.toMillis(load.firstAfterKill.get() - killedAt);
          leader = leaderNow(null).orElse("(unknown)");
          figures.newLeader = leader;
          out.printf("   the next transfer was confirmed %,d ms after the kill; %s leads now%n", figures.failoverMs, leader);
          out.flush();
        }
        boolean failedOver = figures.failoverMs >= 0;
        if (failedOver && watcher == null
            && (now - load.firstAfterKill.get() >= TimeUnit.SECONDS.toNanos(1) || !loadRunning)) {
          String back = killed;
          Process p = processes.start(dir.resolve(back));
          long restartedAt = System.nanoTime();
          out.printf("   restarted %s (pid %d) from its own directory; it catches up from the new leader%n", back, p.pid());
          out.flush();
          watcher = threads.submit(() -> watchCatchUp(back, restartedAt));
        }
        if (loadRunning && now >= nextTick) {
          long confirmed = load.confirmed.get();
          long rate = Math.round((confirmed - lastConfirmed) * 1e9 / (now - lastTick));
          perSecond.add(rate);
          if (!leader.equals(KILLED)) {
            leader = leaderNow(leader).orElse("(unknown)");
          }
          out.printf("   %5.1f s  %,9d confirmed  %,6d/s  leader %s%n", (now - start) / 1e9, confirmed, rate,
              leader.equals(KILLED) ? "killed, electing" : leader);
          out.flush();
          lastConfirmed = confirmed;
          lastTick = now;
          nextTick = now + TimeUnit.SECONDS.toNanos(1);
        }
        if (loadRunning && now >= end && (failedOver || now >= end + TimeUnit.SECONDS.toNanos(30))) {
          loadRunning = false;
          load.stop = true;
        }
        if (!loadRunning && (watcher == null ? !failedOver : watcher.isDone())) {
          break;
        }
        Thread.sleep(100);
      }
      load.stop = true;
      if (watcher != null) {
        watcher.get(70, TimeUnit.SECONDS);
      }
      figures.killedReplica = killed == null ? "-" : killed;
      long[] rates = perSecond.stream().mapToLong(Long::longValue).sorted().toArray();
      figures.medianPerSecond = rates.length == 0 ? -1 : rates[rates.length / 2];
      if (killed == null) {
        failures.add("no leader was found to kill");
      } else if (figures.failoverMs < 0) {
        failures.add("no transfer was confirmed after the leader was killed");
      } else if (figures.catchUpMs < 0) {
        failures.add(killed + " did not catch up within 60 s of its restart; see " + dir.resolve(killed).resolve("replica.log"));
      }
    }

    /**
     * Asks the other replicas and then the restarted one for their latest heads every 200 ms (at
     * most 60 s) until the restarted one has applied the highest batch the others reported.
     */
    private void watchCatchUp(String back, long restartedAt) {
      try {
        long deadline = restartedAt + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
          long ahead = settings.keySet().stream().filter(id -> !id.equals(back)).map(this::head).flatMap(Optional::stream)
              .mapToLong(ReportedHead::batch).max().orElse(-1);
          Optional<ReportedHead> behind = ahead >= 0 ? head(back) : Optional.empty();
          if (behind.isPresent() && figures.answeringMs < 0) {
            figures.answeringMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartedAt);
            out.printf("   %s answers again %.1f s after its restart, at batch %,d of the leader's %,d%n", back,
                figures.answeringMs / 1e3, behind.get().batch(), ahead);
            out.flush();
          }
          if (behind.isPresent() && behind.get().batch() >= ahead) {
            figures.caughtUpBatch = behind.get().batch();
            figures.catchUpMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartedAt);
            out.printf("   %s caught up: it applied batch %,d, the leader's latest, %.1f s after its restart%n", back,
                behind.get().batch(), figures.catchUpMs / 1e3);
            out.flush();
            return;
          }
          Thread.sleep(200);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** Kills {@code id}'s process (found from its pid file) with SIGKILL; returns when the signal was sent. */
    private long kill(String id, Transfers load) throws Exception {
      Optional<ProcessHandle> handle = ClusterCommand.running(dir.resolve(id));
      if (handle.isEmpty() || !processes.ours(handle.get())) {
        throw new IllegalStateException("the leader " + id + " has no live process of this demo behind its pid file");
      }
      long confirmedBefore = load.confirmed.get();
      long killedAt = System.nanoTime();
      handle.get().destroyForcibly();
      handle.get().onExit().get(10, TimeUnit.SECONDS);
      load.deadAt = System.nanoTime();
      out.printf("   killed the leader %s (pid %d) with SIGKILL at %.1f s, after %,d confirmed transfers%n", id,
          handle.get().pid(), (killedAt - load.startedAt) / 1e9, confirmedBefore);
      out.flush();
      return killedAt;
    }

    /** The replica that says it leads, asking {@code guess} first; empty during an election. */
    private Optional<String> leaderNow(String guess) {
      List<String> order = new ArrayList<>(settings.keySet());
      if (guess != null && order.remove(guess)) {
        order.addFirst(guess);
      }
      for (String id : order) {
        String state = ClusterCommand.Status.probe(settings.get(id));
        if (state.equals("leads")) {
          return Optional.of(id);
        }
        if (state.startsWith("follows r") && settings.containsKey(state.substring("follows ".length()))) {
          String hinted = state.substring("follows ".length());
          if (ClusterCommand.Status.probe(settings.get(hinted)).equals("leads")) {
            return Optional.of(hinted);
          }
        }
      }
      return Optional.empty();
    }

    /**
     * Replica {@code id}'s latest signed head, asked of it alone over TLS (a query frame, which a
     * follower answers itself rather than redirecting), its signature checked against the
     * operator key; empty if it does not answer within 2 s.
     */
    private Optional<ReportedHead> head(String id) {
      ReplicaSettings s = settings.get(id);
      if (s == null) {
        return Optional.empty();
      }
      try (SSLSocket socket = ClusterCommand.Status.connect(s)) {
        DataOutputStream to = new DataOutputStream(socket.getOutputStream());
        DataInputStream from = new DataInputStream(socket.getInputStream());
        byte[] query = Frame.CODEC.encode(new Frame.Query(1, Ledger.ACCOUNTS.keyBytes(account(0)))).toByteArray();
        to.writeInt(query.length);
        to.write(query);
        to.flush();
        int length = from.readInt();
        if (length < 0 || length > (16 << 20)) {
          return Optional.empty();
        }
        byte[] reply = new byte[length];
        from.readFully(reply);
        if (Frame.CODEC.decode(Bytes.adopt(reply)) instanceof Frame.Answer answer && answer.head().isPresent()
            && answer.head().get().verify(operatorKey)) {
          return Optional.of(new ReportedHead(id, answer.head().get()));
        }
        return Optional.empty();
      } catch (Exception notAnswering) {
        return Optional.empty();
      }
    }

    private boolean check(BulwarkClient client, Transfers load) throws Exception {
      step("5. Check: receipts offline, balances, and every replica's state digest");
      List<Receipt> sample = new ArrayList<>(load.sample.receipts());
      if (load.firstReceiptAfterKill != null) {
        sample.add(load.firstReceiptAfterKill);
      }
      PublicKey publicKey = KeyFiles.readPublicKey(dir.resolve("operator.pub"));
      for (Receipt r : sample) {
        // Offline, as a user would: the receipt's JSON form and the operator's public key file, nothing else.
        Receipt read = ReceiptJson.readReceipt(ReceiptJson.write(r));
        if (read.verify(publicKey).isValid()) {
          figures.receiptsValid++;
        }
        figures.receiptsChecked++;
      }
      out.printf("   %d of %d sampled receipts (with the first one confirmed after the kill) verify from their JSON with "
          + "nothing but operator.pub%n", figures.receiptsValid, figures.receiptsChecked);
      if (!sample.isEmpty()) {
        Path receipt = dir.resolve("receipt.json");
        Files.writeString(receipt, ReceiptJson.write(sample.getLast()));
        if (directory != null || keep) {
          out.println("   check one yourself: bin/bulwark verify receipt " + receipt + " --operator-key "
              + dir.resolve("operator.pub"));
        }
      }
      long balances = 0;
      long nonces = 0;
      for (int i = 0; i < accounts; i++) {
        var entry = client.query(Ledger.ACCOUNTS.keyBytes(account(i)));
        if (entry.value().isEmpty()) {
          failures.add("account " + account(i) + " is missing");
          continue;
        }
        Account a = Account.CODEC.decode(entry.value().get());
        balances += a.balance();
        nonces += a.nonce();
      }
      figures.balanceTotal = balances;
      figures.nonceTotal = nonces;
      out.printf("   balances add up to %,d (deposits %,d); the accounts' nonces add up to %,d (transfers confirmed %,d), "
          + "each read with a proof under a signed head%n", balances, DEPOSIT * accounts, nonces, figures.confirmed);
      agreeOnState();
      audit(sample, publicKey);
      return passed();
    }

    /**
     * As an auditor would, from one replica's admin API: every signed head from the first,
     * chained and consistent (bulwark audit), and the head in every sampled receipt is the one
     * that replica's log holds for that batch, so no user was shown another history.
     */
    private void audit(List<Receipt> sample, PublicKey publicKey) {
      String id = figures.agreed.map(ReportedHead::replica).orElse(settings.keySet().iterator().next());
      ReplicaSettings s = settings.get(id);
      String url = "http://" + s.httpHost() + ":" + s.httpPort();
      java.io.StringWriter auditOut = new java.io.StringWriter();
      int exit = new picocli.CommandLine(new AuditCommand()).setOut(new PrintWriter(auditOut))
          .setErr(new PrintWriter(auditOut)).execute("--replica", url, "--operator-key", dir.resolve("operator.pub").toString());
      if (exit != 0) {
        figures.audit = "bulwark audit exited " + exit + ": " + auditOut.toString().strip();
        return;
      }
      int matched = 0;
      try (var http = java.net.http.HttpClient.newHttpClient()) {
        for (Receipt r : sample) {
          if (!(r instanceof Receipt.PerBatch perBatch)) {
            continue;
          }
          long batch = perBatch.head().head().batchNumber();
          var answer = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/heads/" + batch)).build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
          if (answer.statusCode() != 200 || !ReceiptJson.readHead(answer.body()).equals(perBatch.head())) {
            figures.audit = "the head in a receipt of batch " + batch + " is not the one " + id + "'s log holds";
            return;
          }
          matched++;
        }
      } catch (IOException | RuntimeException e) {
        figures.audit = "cannot audit " + url + ": " + e.getMessage();
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        figures.audit = "interrupted";
        return;
      }
      String lastLine = auditOut.toString().strip().lines().reduce((a, b) -> b).orElse("");
      figures.audit = String.format("%s's heads form one append-only history (%s); the heads of all %d sampled receipts "
          + "are in it", id, lastLine, matched);
      figures.audited = true;
      out.println("   " + figures.audit);
    }

    /** Asks each replica alone until all report the same batch (at most 30 s), then compares their heads. */
    private void agreeOnState() throws InterruptedException {
      List<ReportedHead> heads = List.of();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      for (int attempt = 0; attempt < 150 && System.nanoTime() < deadline; attempt++) {
        heads = settings.keySet().stream().map(this::head).flatMap(Optional::stream).toList();
        if (heads.size() == settings.size() && heads.stream().mapToLong(ReportedHead::batch).distinct().count() == 1) {
          break;
        }
        Thread.sleep(200);
      }
      for (ReportedHead h : heads) {
        out.printf("   %s: batch %,d, state root %s, head hash %s%n", h.replica(), h.batch(),
            h.signed().head().stateRoot().shortHex(), h.signed().head().hash().shortHex());
      }
      if (heads.size() != settings.size()) {
        figures.disagreement = "only " + heads.size() + " of " + settings.size() + " replicas answered";
      } else if (heads.stream().mapToLong(ReportedHead::batch).distinct().count() != 1) {
        figures.disagreement = "the replicas did not reach the same batch within 30 s";
      } else if (heads.stream().map(h -> h.signed().head().hash()).distinct().count() != 1
          || heads.stream().map(h -> h.signed().head().stateRoot()).distinct().count() != 1) {
        figures.disagreement = "the replicas' heads differ at the same batch";
      } else {
        figures.agreed = Optional.of(heads.getFirst());
        figures.disagreement = "";
      }
    }

    private boolean passed() {
      boolean ok = failures.isEmpty();
      ok &= figures.receiptsChecked > 0 && figures.receiptsValid == figures.receiptsChecked;
      ok &= figures.balanceTotal == DEPOSIT * accounts && figures.nonceTotal == figures.confirmed;
      ok &= figures.agreed.isPresent();
      ok &= figures.audited;
      return ok;
    }

    /** Stops every replica, checks that none is left, and prints the summary; returns whether all checks passed. */
    private boolean summaryAfterStop(boolean checksPassed) {
      step("6. Stop every replica the demo started");
      processes.stopAll();
      figures.noneLeft = !processes.anyAlive();
      for (String id : settings.keySet()) {
        if (ClusterCommand.running(dir.resolve(id)).isEmpty()) {
          try {
            Files.deleteIfExists(dir.resolve(id).resolve("replica.pid"));
          } catch (IOException e) {
            out.println("   cannot remove " + dir.resolve(id).resolve("replica.pid") + ": " + e.getMessage());
          }
        }
      }
      out.printf("   stopped pids %s: %s%n", processes.pids(), figures.noneLeft ? "none left running" : "SOME STILL RUN");
      boolean ok = checksPassed && failures.isEmpty() && figures.noneLeft;
      Figures f = figures;
      out.println();
      out.println("Summary");
      out.printf("  transfers confirmed  %,d in %.1f s: %,.0f/s (median %,d/s over the progress lines)%n", f.confirmed,
          f.loadSeconds, f.loadSeconds > 0 ? f.confirmed / f.loadSeconds : 0.0, f.medianPerSecond);
      out.printf("  failover             leader %s killed with SIGKILL; next confirmation after %s%s%n", f.killedReplica,
          f.failoverMs < 0 ? "none: FAILED" : String.format("%,d ms", f.failoverMs),
          settings.containsKey(f.newLeader) ? " (" + f.newLeader + " leads)" : "");
      out.printf("  catch-up             %s%n", f.catchUpMs < 0 ? "FAILED: the restarted replica did not catch up"
          : String.format("%s restarted, answered after %.1f s and applied the leader's batch %,d after %.1f s",
              f.killedReplica, f.answeringMs / 1e3, f.caughtUpBatch, f.catchUpMs / 1e3));
      out.printf("  receipts verified    %d of %d sampled%s%n", f.receiptsValid, f.receiptsChecked,
          f.receiptsChecked > 0 && f.receiptsValid == f.receiptsChecked ? "" : ": FAILED");
      out.printf("  balances             %,d = deposits %,d; nonces %,d = transfers %,d%s%n", f.balanceTotal,
          DEPOSIT * accounts, f.nonceTotal, f.confirmed,
          f.balanceTotal == DEPOSIT * accounts && f.nonceTotal == f.confirmed ? "" : ": FAILED");
      out.printf("  state digest         %s%n", f.agreed.map(h -> String.format("all %d replicas at batch %,d: state root %s, "
          + "head hash %s", settings.size(), h.batch(), h.signed().head().stateRoot().hex(), h.signed().head().hash().hex()))
          .orElse("FAILED: " + f.disagreement));
      out.printf("  audit                %s%n", f.audited ? "heads chained and consistent; every sampled receipt's head is in the log"
          : "FAILED: " + f.audit);
      out.printf("  processes            %s%n", f.noneLeft ? "all stopped" : "FAILED: some still run");
      failures.forEach(failure -> out.println("  failed               " + failure));
      out.println(ok ? "All checks passed." : "A check FAILED (see above).");
      out.flush();
      return ok;
    }
  }

  private static String account(int i) {
    return String.format("acct-%03d", i);
  }

  private static Outcome.Confirmed applied(Outcome o) {
    if (o instanceof Outcome.Confirmed c && c.result() instanceof ResultEnvelope.Applied) {
      return c;
    }
    throw new IllegalStateException("not applied: " + o);
  }

  /** A base port whose Raft, client and admin ports are free now: 7100 if it can, else any. */
  static int freeBasePort() {
    return Ports.freeBasePort(3, java.util.OptionalInt.of(7100), new java.util.SplittableRandom())
        .orElseThrow(() -> new UserError("no free range of ports on 127.0.0.1 found for the demo cluster"));
  }
}
