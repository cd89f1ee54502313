package dev.bulwark.cli;

import dev.bulwark.server.raft.Backups;
import dev.bulwark.server.raft.ReplicaServer;
import dev.bulwark.store.keys.KeyFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Builds a replica's data directory from a backup, for a replica directory that has its
 * configuration and keys but no data: the replica then starts from the backup's state and
 * catches up from the leader, or, when every replica was restored from the same backup, the
 * cluster goes on from it.
 */
@Command(name = "restore", mixinStandardHelpOptions = true,
    description = {"Build a replica's data directory from a backup (as 'bulwark backup' saves it).",
        "REPLICA_DIR holds the replica's replica.properties and keys but no data/; the replica must be stopped. "
            + "Start it afterwards as usual. See docs/operations.md."})
final class RestoreCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "BACKUP", description = "The backup file.")
  Path backup;

  @Option(names = "--into", required = true, paramLabel = "REPLICA_DIR",
      description = "The replica's directory (with its replica.properties).")
  Path into;

  @Override
  public Integer call() throws Exception {
    Path config = into.resolve("replica.properties");
    if (!Files.isRegularFile(config)) {
      throw new UserError(into + " is not a replica directory: it has no replica.properties");
    }
    if (!Files.isRegularFile(backup)) {
      throw new UserError("no backup file at " + backup);
    }
    if (ClusterCommand.running(into).isPresent()) {
      throw new UserError("the replica in " + into + " is running; stop it before restoring");
    }
    ReplicaSettings s = ReplicaSettings.read(config);
    var operatorKey = KeyFiles.readPrivateKey(s.operatorKey()).publicKey();
    Path data = config.toAbsolutePath().getParent().resolve("data");
    Backups.Manifest manifest;
    try {
      manifest = Backups.restore(backup, operatorKey, new ReplicaServer.Members(s.cluster(), s.raftPeers()), s.id(), data);
    } catch (IOException e) {
      throw new UserError("cannot restore " + backup + " into " + into + ": " + e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    out.printf("restored replica %s of cluster '%s' into %s from the backup of %s: batch %d (Raft log index %d, term %d)%n",
        s.id(), s.cluster(), data, manifest.replica(), manifest.batchNumber(), manifest.logIndex(), manifest.logTerm());
    out.println("start it as usual ('bulwark serve " + config + "' or 'bulwark cluster up'); it goes on from that batch");
    return 0;
  }
}
