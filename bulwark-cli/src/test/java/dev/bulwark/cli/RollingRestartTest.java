package dev.bulwark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.client.BulwarkClient;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.ledger.LedgerOp;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rolling upgrade, with the same binary standing in for the next version: under a steady
 * client load, each replica process in turn is stopped (SIGTERM), started again from its data
 * directory and given time to catch up. No confirmed transfer is lost or applied twice, and no
 * request fails beyond the client's retries.
 */
class RollingRestartTest {
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  static final int PAYERS = 4;

  @Test
  void restartingEachReplicaInTurnUnderLoadLosesNothing() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir.resolve("cluster"))) {
      cluster.up();
      List<SigningKey> owners = new ArrayList<>();
      List<String> names = new ArrayList<>();
      AtomicLongArray confirmed = new AtomicLongArray(PAYERS);
      List<String> failures = Collections.synchronizedList(new ArrayList<>());
      AtomicBoolean stop = new AtomicBoolean();
      try (BulwarkClient client = cluster.client("rolling")) {
        for (int i = 0; i < PAYERS; i++) {
          SigningKey owner = SigningKey.generate(new SplittableRandom(40 + i));
          owners.add(owner);
          names.add("payer-" + i);
          LocalCluster.confirmed(client.submit(LocalCluster.payload(new LedgerOp.OpenAccount("payer-" + i, owner.publicKey()),
              owner)));
          LocalCluster.confirmed(client.submit(LocalCluster.payload(new LedgerOp.Deposit("payer-" + i, 1_000_000,
              Bytes.utf8("d" + i)), cluster.adminKey())));
        }
        // Each payer sends its next transfer once the previous one is confirmed: its account's nonce
        // must end equal to the number of its confirmations, or a transfer was lost or repeated.
        List<Thread> payers = new ArrayList<>();
        for (int i = 0; i < PAYERS; i++) {
          int from = i;
          payers.add(Thread.ofPlatform().name("payer-" + i).start(() -> {
            for (long nonce = 1; !stop.get() && nonce <= 100_000; nonce++) {
              try {
                Outcome outcome = client.submit(LocalCluster.payload(
                    new LedgerOp.Transfer("payer-" + from, "payer-" + ((from + 1) % PAYERS), 1, nonce), owners.get(from)));
                if (outcome instanceof Outcome.Confirmed c && c.result() instanceof ResultEnvelope.Applied) {
                  confirmed.incrementAndGet(from);
                } else {
                  failures.add("payer-" + from + " nonce " + nonce + ": " + outcome);
                  return;
                }
              } catch (InterruptedException e) {
                return;
              } catch (RuntimeException e) {
                failures.add("payer-" + from + " nonce " + nonce + ": " + e);
                return;
              }
            }
          }));
        }
        awaitMore(cluster, failures, confirmed, 20);
        for (String id : cluster.ids()) {
          Path rdir = cluster.dir.resolve(id);
          ProcessHandle process = ClusterCommand.running(rdir).orElseThrow();
          process.destroy();
          process.onExit().get(30, TimeUnit.SECONDS);
          awaitMore(cluster, failures, confirmed, 10); // the others go on without it
          ClusterCommand.startReplica(rdir, false);
          // It catches up: its applied batch reaches what a peer had applied when it came back.
          String peer = cluster.ids().stream().filter(p -> !p.equals(id)).findFirst().orElseThrow();
          long target = cluster.status(peer).orElseThrow().integer("appliedBatch");
          boolean caughtUp = false;
          for (int i = 0; i < 600 && !caughtUp; i++) { // up to a minute: a restart takes 20 s on a loaded machine
            caughtUp = cluster.status(id).map(s -> s.integer("appliedBatch") >= target).orElse(false);
            Thread.sleep(100);
          }
          assertThat(caughtUp).as("%s caught up to batch %d after its restart", id, target).isTrue();
          awaitMore(cluster, failures, confirmed, 10);
          assertThat(failures).as("client failures while %s restarted", id).isEmpty();
        }
        stop.set(true);
        for (Thread t : payers) {
          t.join(60_000);
        }
        assertThat(failures).isEmpty();
        cluster.awaitConverged(300);
        long total = 0;
        for (int i = 0; i < PAYERS; i++) {
          var account = LocalCluster.account(client, names.get(i));
          assertThat(account.nonce()).as("transfers applied from %s", names.get(i)).isEqualTo(confirmed.get(i));
          total += account.balance();
        }
        assertThat(total).isEqualTo(PAYERS * 1_000_000L);
      }
    }
  }

  /** Waits (at most 60 s) until {@code more} further transfers were confirmed; if they are not, says why it thinks so. */
  static void awaitMore(LocalCluster cluster, List<String> failures, AtomicLongArray confirmed, long more)
      throws InterruptedException {
    long start = sum(confirmed);
    for (int i = 0; i < 600 && sum(confirmed) < start + more; i++) {
      Thread.sleep(100);
    }
    if (sum(confirmed) < start + more) {
      throw new AssertionError("transfers confirmed stopped at " + sum(confirmed) + " (wanted " + (start + more)
          + "); client failures " + failures + payerStacks() + cluster.describe(60));
    }
  }

  /** Where each payer thread is waiting, for a failure report. */
  static String payerStacks() {
    StringBuilder out = new StringBuilder();
    Thread.getAllStackTraces().forEach((thread, stack) -> {
      if (thread.getName().startsWith("payer-")) {
        out.append("\n--- ").append(thread.getName()).append(' ').append(thread.getState()).append('\n');
        for (int i = 0; i < Math.min(stack.length, 12); i++) {
          out.append("  at ").append(stack[i]).append('\n');
        }
      }
    });
    return out.toString();
  }

  static long sum(AtomicLongArray a) {
    long s = 0;
    for (int i = 0; i < a.length(); i++) {
      s += a.get(i);
    }
    return s;
  }
}
