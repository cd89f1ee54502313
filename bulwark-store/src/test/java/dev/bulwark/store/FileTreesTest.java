package dev.bulwark.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTreesTest {
  @TempDir Path dir;

  @Test
  void deletesANestedTreeAndLeavesItsSiblings() throws Exception {
    Path tree = dir.resolve("tree");
    Files.createDirectories(tree.resolve("a/b/c"));
    Files.writeString(tree.resolve("a/b/c/leaf"), "x");
    Files.writeString(tree.resolve("top"), "y");
    Path sibling = Files.writeString(dir.resolve("sibling"), "z");

    FileTrees.delete(tree);

    assertThat(tree).doesNotExist();
    assertThat(sibling).hasContent("z");
  }

  @Test
  void aMissingTreeIsNoError() throws Exception {
    FileTrees.delete(dir.resolve("never-made"));
    assertThat(dir.resolve("never-made")).doesNotExist();
  }
}
