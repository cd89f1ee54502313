package dev.bulwark.server.raft;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.app.StateMirror;
import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerOp;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.ledger.LedgerResult;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.server.engine.EngineConfig;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * A one-replica cluster in its own JVM, for {@link ReplicaKillTest}. "run" opens an account and
 * deposits 1 at a time, printing "confirmed N" after deposit N is confirmed, until it is killed;
 * "check" restarts from the same directory and prints the recovered balance and supply.
 */
public final class KillableReplicaMain {
  static final SigningKey ADMIN = SigningKey.generate(new SplittableRandom(21));
  static final SigningKey OPERATOR = SigningKey.generate(new SplittableRandom(22));
  static final SigningKey OWNER = SigningKey.generate(new SplittableRandom(23));

  private KillableReplicaMain() {}

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    Path dir = Path.of(args[1]);
    int port = Integer.parseInt(args[2]);
    Ledger ledger = new Ledger(ADMIN.publicKey());
    var members = new ReplicaServer.Members("kill", Map.of("solo", "127.0.0.1:" + port));
    var replica = ReplicaServer.start("solo", members, dir, ledger, EngineConfig.defaults("kill-test"), RaftSettings.DEFAULT,
        OPERATOR, InstantSource.system());
    for (int i = 0; i < 1500 && !replica.isSequencing(); i++) {
      Thread.sleep(20);
    }
    if (!replica.isSequencing()) {
      System.out.println("no leadership");
      System.exit(3);
    }
    if (mode.equals("check")) {
      var store = replica.replica().objects().store();
      long balance = StateMirror.get(store, Ledger.ACCOUNTS, "acct").map(a -> a.balance()).orElse(-1L);
      long supply = StateMirror.get(store, Ledger.SUPPLY, Ledger.SUPPLY_KEY).orElse(0L);
      System.out.println("balance " + balance + " supply " + supply + " batch " + replica.replica().applied().batchNumber());
      System.out.flush();
      Runtime.getRuntime().halt(0);
    }
    send(replica, 1, new LedgerOp.OpenAccount("acct", OWNER.publicKey()), OWNER);
    for (long n = 1; n < 1_000_000; n++) {
      send(replica, n + 1, new LedgerOp.Deposit("acct", 1, Bytes.utf8("d" + n)), ADMIN);
      System.out.println("confirmed " + n);
      System.out.flush();
    }
  }

  private static void send(ReplicaServer<LedgerRequest, LedgerResult> replica, long seq, LedgerOp op, SigningKey key)
      throws Exception {
    Outcome o = replica.submit(new ClientRequest(Bytes.utf8("writer"), seq, LedgerRequest.CODEC.encode(LedgerRequest.sign(op, key))))
        .get(30, TimeUnit.SECONDS);
    if (!(o instanceof Outcome.Confirmed c) || !(c.result() instanceof ResultEnvelope.Applied)) {
      throw new IllegalStateException("not applied: " + o);
    }
  }
}
