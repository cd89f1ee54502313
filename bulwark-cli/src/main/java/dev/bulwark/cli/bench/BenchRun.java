package dev.bulwark.cli.bench;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.protocol.Outcome;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Drives one bench run: a virtual thread per client, each sending transfers from the accounts
 * it owns (round robin, to a random other account), and this thread ticking once a second to
 * print a progress line and to end warmup and the run.
 *
 * <p>Closed loop, a client sends its next transfer when the previous one is answered, and
 * latency is from send to answer. Open loop, client {@code c} sends at fixed times
 * {@code start + (c / clients + k) * interval}; when the cluster falls behind, the client sends
 * late, and latency is measured from the time the transfer was due, so waiting for the cluster
 * counts against it instead of vanishing (no coordinated omission).
 *
 * <p>A client tracks each account's next nonce itself; after an error that leaves the nonce in
 * doubt (a timeout, BAD_NONCE) it reads the account's nonce back from the cluster.
 */
public final class BenchRun {
  /** The longest a {@code --transfers} run goes on: a day. */
  static final long TICKS_MAX = 24 * 3600;
  /** The pause after an error in closed loop, so a failing cluster is not hammered. */
  static final Duration ERROR_PAUSE = Duration.ofMillis(10);
  /** The amount of every transfer. */
  static final long AMOUNT = 1;

  /** The cluster as the bench sees it. */
  public interface Target {
    /** Sends one request payload; see {@code BulwarkClient.submit}. */
    Outcome submit(Bytes payload) throws InterruptedException;

    /** The nonce the next transfer from {@code account} must carry, as the cluster has it now. */
    long nextNonce(String account) throws InterruptedException;
  }

  private final BenchPlan plan;
  private final List<BenchAccount> accounts;
  private final TransferSource source;
  private final Target target;
  private final PrintWriter progress;
  private final Duration drainMax;
  private final BenchMeter meter = new BenchMeter();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final long seed;
  private ProcessCpu cpu;
  private Map<String, Long> cpuAtStart = Map.of();

  /**
   * @param accounts the plan's accounts, opened and funded, all at nonce 0
   * @param drainMax how long to wait, once the run is over, for the transfers still in flight
   * @param seed picks each transfer's destination
   */
  public BenchRun(BenchPlan plan, List<BenchAccount> accounts, TransferSource source, Target target, PrintWriter progress,
      Duration drainMax, long seed) {
    if (accounts.size() != plan.accounts()) {
      throw new IllegalArgumentException("the plan has " + plan.accounts() + " accounts, " + accounts.size() + " given");
    }
    this.plan = plan;
    this.accounts = List.copyOf(accounts);
    this.source = source;
    this.target = target;
    this.progress = progress;
    this.drainMax = drainMax;
    this.seed = seed;
  }

  /** Also reports the CPU time {@code processes} use while the run is measured, per process. */
  public BenchRun measuringCpu(ProcessCpu processes) {
    this.cpu = processes;
    return this;
  }

  public BenchReport run() throws InterruptedException {
    CountDownLatch done = new CountDownLatch(plan.clients());
    long startNs = System.nanoTime();
    long measureStartNs = startNs;
    if (plan.warmupSeconds() == 0) {
      startMeasuring(startNs);
    }
    long endNs;
    Map<String, Long> cpuUsed;
    ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    try {
      for (int c = 0; c < plan.clients(); c++) {
        int client = c;
        threads.execute(() -> {
          try {
            new Client(client, startNs).run();
          } finally {
            done.countDown();
          }
        });
      }
      long ticks = switch (plan.length()) {
        case BenchPlan.Length.Seconds s -> plan.warmupSeconds() + s.seconds();
        case BenchPlan.Length.TransfersPerAccount t -> TICKS_MAX;
      };
      boolean finished = false;
      long k = 1;
      for (; k <= ticks && !finished; k++) {
        finished = awaitTick(done, startNs, k);
        if (!finished) {
          progress.println(BenchReport.progressLine(k, meter.closeWindow()));
          progress.flush();
          if (k == plan.warmupSeconds()) {
            startMeasuring(startNs + k * 1_000_000_000L);
            measureStartNs = System.nanoTime();
          }
        }
      }
      stop.set(true);
      long drainTicks = k + Math.max(1, drainMax.toSeconds());
      for (; k < drainTicks && !finished; k++) {
        finished = awaitTick(done, startNs, k);
        if (!finished) {
          progress.println(BenchReport.progressLine(k, meter.closeDrainWindow()));
          progress.flush();
        }
      }
      endNs = System.nanoTime();
      cpuUsed = cpu == null ? Map.of() : ProcessCpu.used(cpuAtStart, cpu.sample());
      if (!finished) {
        progress.printf("%d clients still waiting for an answer after %d s: giving up on them%n", done.getCount(),
            drainMax.toSeconds());
        progress.flush();
        threads.shutdownNow();
        threads.awaitTermination(10, TimeUnit.SECONDS);
      }
    } finally {
      threads.shutdownNow();
    }
    return BenchReport.of(plan, source.name(), endNs - measureStartNs, meter.finish()).withCpu(cpuUsed);
  }

  private void startMeasuring(long fromNs) {
    meter.startMeasuring(fromNs);
    if (cpu != null) {
      cpuAtStart = cpu.sample();
    }
  }

  /** Waits until second {@code k} of the run; true if every client finished first. */
  private static boolean awaitTick(CountDownLatch done, long startNs, long k) throws InterruptedException {
    return done.await(Math.max(0, startNs + k * 1_000_000_000L - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  /** One client: its accounts, their nonces, its schedule. */
  private final class Client {
    private final int[] owned;
    private final long[] nextNonce;
    private final SplittableRandom random;
    private final long intervalNs;
    private long dueNs;

    Client(int client, long startNs) {
      this.owned = plan.accountsOf(client);
      this.nextNonce = new long[owned.length];
      Arrays.fill(nextNonce, 1);
      this.random = new SplittableRandom(seed ^ (client * 0x9E3779B97F4A7C15L));
      this.intervalNs = plan.clientIntervalNanos();
      this.dueNs = startNs + client * intervalNs / plan.clients();
    }

    void run() {
      long sends = switch (plan.length()) {
        case BenchPlan.Length.Seconds s -> Long.MAX_VALUE;
        case BenchPlan.Length.TransfersPerAccount t -> t.transfers() * owned.length;
      };
      try {
        for (long n = 0; n < sends && !stop.get(); n++) {
          int slot = (int) (n % owned.length);
          long sentNs;
          if (plan.openLoop()) {
            long waitNs = dueNs - System.nanoTime();
            if (waitNs > 0) {
              Thread.sleep(Duration.ofNanos(waitNs));
            }
            if (stop.get()) {
              return;
            }
            sentNs = dueNs;
            dueNs += intervalNs;
          } else {
            sentNs = System.nanoTime();
          }
          send(slot, sentNs);
        }
      } catch (InterruptedException e) {
        meter.error("unanswered");
      }
    }

    private void send(int slot, long sentNs) throws InterruptedException {
      BenchAccount from = accounts.get(owned[slot]);
      Bytes payload = source.transfer(from, destination(owned[slot]), AMOUNT, nextNonce[slot]);
      Optional<String> failure;
      try {
        Outcome outcome = target.submit(payload);
        failure = ErrorKinds.of(outcome);
        if (failure.isEmpty()) {
          meter.confirmed(sentNs, System.nanoTime() - sentNs);
          nextNonce[slot]++;
          return;
        }
      } catch (RuntimeException e) {
        failure = Optional.of(ErrorKinds.of(e));
      }
      String kind = failure.get();
      meter.error(kind);
      if (ErrorKinds.losesNonce(kind)) {
        try {
          nextNonce[slot] = target.nextNonce(from.name());
        } catch (RuntimeException e) {
          meter.error("nonce-read:" + ErrorKinds.of(e));
        }
      }
      if (!plan.openLoop()) {
        Thread.sleep(ERROR_PAUSE);
      }
    }

    /** A random account other than {@code from}. */
    private String destination(int from) {
      int to = random.nextInt(accounts.size() - 1);
      return accounts.get(to >= from ? to + 1 : to).name();
    }
  }
}
