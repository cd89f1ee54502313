package dev.bulwark.server.raft;

import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.ledger.LedgerRequest;
import dev.bulwark.ledger.LedgerResult;
import dev.bulwark.server.engine.EngineConfig;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Map;
import java.util.SplittableRandom;

/** A one-replica ledger cluster on a free loopback port, for tests that need one real replica. */
public final class SingleLedgerReplica {
  private SingleLedgerReplica() {}

  /** Starts replica "r1" of cluster {@code name} in {@code dir}/r1, signing heads with {@code operator}. */
  public static ReplicaServer<LedgerRequest, LedgerResult> start(Path dir, String name, SigningKey operator) {
    var members = new ReplicaServer.Members(name, Map.of("r1", "127.0.0.1:" + InProcessCluster.freeLoopbackPort()));
    var ledger = new Ledger(SigningKey.generate(new SplittableRandom(42)).publicKey());
    return ReplicaServer.start("r1", members, dir.resolve("r1"), ledger, EngineConfig.defaults(name), RaftSettings.DEFAULT,
        operator, InstantSource.system());
  }
}
