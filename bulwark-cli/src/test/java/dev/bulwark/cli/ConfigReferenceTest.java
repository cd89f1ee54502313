package dev.bulwark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.cli.config.Setting;
import dev.bulwark.cli.config.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/configuration.md never drifts from the registry it documents. */
class ConfigReferenceTest {
  static final Path DOC = Path.of("..", "docs", "configuration.md");

  @Test
  void theDocsTablesAreWhatTheRegistryGenerates() throws IOException {
    String doc = Files.readString(DOC);
    int begin = doc.indexOf(ConfigCommand.BEGIN);
    int end = doc.indexOf(ConfigCommand.END);
    assertThat(begin).as("the generated block's start marker in " + DOC).isNotNegative();
    assertThat(end).as("its end marker").isGreaterThan(begin);
    String inDoc = doc.substring(begin, end + ConfigCommand.END.length()) + "\n";
    assertThat(inDoc).as(DOC + " differs from 'bulwark config reference': paste its output between the markers")
        .isEqualTo(ConfigCommand.generated());
  }

  @Test
  void everySettingIsInTheDocsAndEveryDefaultReadsBackAsItself() throws IOException {
    String doc = Files.readString(DOC);
    for (Setting<?> s : Settings.ALL) {
      assertThat(doc).contains("| `" + s.name() + "` |");
      if (s.absent() instanceof Setting.Absent.Fixed) {
        assertThat(roundTrip(s)).as(s.name()).isEqualTo(s.defaultText());
      }
    }
  }

  private static <T> String roundTrip(Setting<T> s) {
    return s.type().format(s.type().parse(s.defaultText(), Path.of(".")));
  }

  @Test
  void theReadmeLinksTheReference() throws IOException {
    assertThat(Files.readString(Path.of("..", "README.md"))).contains("docs/configuration.md");
  }
}
