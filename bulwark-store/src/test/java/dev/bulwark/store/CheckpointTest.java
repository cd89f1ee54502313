package dev.bulwark.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.WriteSet;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A checkpoint is the whole store as of one moment, and opens as a store of its own. */
class CheckpointTest {
  @TempDir
  Path dir;

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aCheckpointHoldsExactlyTheStateAtItsMoment(Backend backend) {
    Path copy = dir.resolve("copy");
    try (KeyValueStore store = backend.open(dir.resolve("live"))) {
      WriteSet.Builder before = WriteSet.builder();
      for (int i = 0; i < 25_000; i++) {
        before.put(Bytes.utf8("k" + i), Bytes.utf8("v" + i));
      }
      store.write(before.build(), Durability.SYNC);
      store.checkpoint(copy);
      store.write(WriteSet.builder().put(Bytes.utf8("after"), Bytes.utf8("x")).delete(Bytes.utf8("k7")).build(),
          Durability.SYNC);
      assertThatThrownBy(() -> store.checkpoint(copy)).isInstanceOf(StoreException.class);
    }
    assertThat(Files.isDirectory(copy)).isTrue();
    try (KeyValueStore restored = backend.open(copy)) {
      assertThat(restored.scan(KeyRange.ALL, 100_000)).hasSize(25_000);
      assertThat(restored.get(Bytes.utf8("k7"))).contains(Bytes.utf8("v7"));
      assertThat(restored.get(Bytes.utf8("after"))).isEmpty();
    }
  }
}
