package dev.bulwark.cli.chaos;

import dev.bulwark.client.ClientConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * What chaos needs from the local cluster tooling ('bulwark cluster'): create a cluster
 * directory, list its replicas, start one as a process, find a running one's process, and
 * configure a client. The cluster command implements it, so chaos starts replicas exactly as
 * 'cluster up' does.
 */
public interface ClusterControl {
  /** A replica of a cluster directory: its id, its directory and its admin HTTP address (host:port). */
  record ReplicaInfo(String id, Path dir, String adminAddress) {}

  /**
   * Creates a cluster directory of one replica per entry of {@code hosts} (127.0.0.1 for a local
   * cluster; a network lab's addresses for partitions), on ports from {@code basePort}.
   */
  void init(Path dir, List<String> hosts, int basePort) throws IOException;

  List<ReplicaInfo> replicas(Path dir);

  /**
   * Starts the replica in {@code replicaDir} as a background process (its pid file written), its
   * command line passed through {@code launcher} (which must exec it, e.g. {@code ip netns exec}).
   */
  Process start(Path replicaDir, UnaryOperator<List<String>> launcher) throws IOException;

  /** The running process of the replica in {@code replicaDir}, per its pid file. */
  Optional<ProcessHandle> running(Path replicaDir);

  /** A client of the cluster named {@code name}-random, one lane. */
  ClientConfig client(Path dir, String name);
}
