package dev.bulwark.server.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.crypto.SigningKey;
import dev.bulwark.core.kv.WriteSet;
import dev.bulwark.core.receipt.BatchHead;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.ledger.Ledger;
import dev.bulwark.server.engine.BatchEntry;
import dev.bulwark.server.engine.EngineConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a rolling upgrade relies on: data, replicated entries and backups say which format they
 * are in, and a replica refuses a format it cannot read with a message that names both versions
 * rather than misreading it. (The wire frames' version is checked in net.WireVersionTest.)
 */
class FormatVersionTest {
  @TempDir
  Path dir;

  static final SigningKey OPERATOR = SigningKey.generate(new SplittableRandom(31));

  @Test
  void aDataDirectoryOfAnotherFormatIsRefusedAtStart() throws Exception {
    int port = InProcessCluster.freeLoopbackPort();
    var members = new ReplicaServer.Members("formats", Map.of("r1", "127.0.0.1:" + port));
    Path data = dir.resolve("r1");
    var ledger = new Ledger(SigningKey.generate(new SplittableRandom(32)).publicKey());
    ReplicaServer.start("r1", members, data, ledger, EngineConfig.defaults("formats"), RaftSettings.DEFAULT, OPERATOR,
        InstantSource.system()).close();
    assertThat(Files.readString(data.resolve(DataFormat.MARKER), StandardCharsets.US_ASCII))
        .isEqualTo("bulwark data format " + DataFormat.VERSION + "\n");

    // The directory as a later version would leave it.
    Files.writeString(data.resolve(DataFormat.MARKER), "bulwark data format " + (DataFormat.VERSION + 1) + "\n");
    assertThatThrownBy(() -> ReplicaServer.start("r1", members, data, ledger, EngineConfig.defaults("formats"),
        RaftSettings.DEFAULT, OPERATOR, InstantSource.system()))
        .isInstanceOf(DataFormat.IncompatibleFormatException.class)
        .hasMessageContaining("has data format " + (DataFormat.VERSION + 1))
        .hasMessageContaining("reads data format " + DataFormat.VERSION + " only");
    // Refused before anything was opened or written: the store is untouched and can be started by its version.
    assertThat(Files.readString(data.resolve(DataFormat.MARKER))).contains("format " + (DataFormat.VERSION + 1));

    Files.writeString(data.resolve(DataFormat.MARKER), "something else\n");
    assertThatThrownBy(() -> DataFormat.checkOrCreate(data)).hasMessageContaining("does not name a bulwark data format");
  }

  @Test
  void aBatchEntryOfAnotherFormatIsRefused() {
    BatchHead head = new BatchHead("formats", 0, 0, BatchHead.ZERO, BatchHead.ZERO, BatchHead.ZERO, 1);
    BatchEntry entry = new BatchEntry(0, WriteSet.builder().build(), SignedBatchHead.sign(head, OPERATOR));
    byte[] encoded = BatchEntry.CODEC.encode(entry).toByteArray();
    assertThat(encoded[0]).as("the format comes first").isEqualTo((byte) BatchEntry.FORMAT_VERSION);
    assertThat(BatchEntry.CODEC.decode(dev.bulwark.core.Bytes.adopt(encoded.clone()))).isEqualTo(entry);
    encoded[0] = (byte) (BatchEntry.FORMAT_VERSION + 1);
    assertThatThrownBy(() -> BatchEntry.CODEC.decode(dev.bulwark.core.Bytes.adopt(encoded)))
        .hasMessageContaining("batch entry format " + (BatchEntry.FORMAT_VERSION + 1) + " is not "
            + BatchEntry.FORMAT_VERSION);
  }

  @Test
  void aBackupOfAnotherFormatIsRefused() {
    assertThatThrownBy(() -> Backups.Manifest.fromJson("{\"format\": \"bulwark.backup.v2\"}"))
        .isInstanceOf(DataFormat.IncompatibleFormatException.class)
        .hasMessageContaining("'bulwark.backup.v2'").hasMessageContaining("'" + Backups.FORMAT + "' only");
    assertThatThrownBy(() -> Backups.Manifest.fromJson("{\"format\": \"" + Backups.FORMAT + "\", \"dataFormat\": "
        + (DataFormat.VERSION + 1) + ", \"entryFormat\": " + BatchEntry.FORMAT_VERSION + "}"))
        .isInstanceOf(DataFormat.IncompatibleFormatException.class)
        .hasMessageContaining("holds data format " + (DataFormat.VERSION + 1))
        .hasMessageContaining("reads data format " + DataFormat.VERSION);
  }
}
