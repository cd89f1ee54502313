package dev.bulwark.cli.config;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The registry as text: the tables of docs/configuration.md and a fully commented
 * {@code replica.properties}. Generated rather than written, so the documentation of a setting
 * is its definition (a test compares the doc with {@link #markdown()}).
 */
public final class Reference {
  private Reference() {}

  /** The headings in reference order, each once. */
  private static Set<String> headings() {
    return new LinkedHashSet<>(Settings.GROUPS.values());
  }

  private static List<Setting<?>> under(String heading) {
    List<Setting<?>> out = new ArrayList<>();
    for (Setting<?> s : Settings.ALL) {
      if (heading.equals(Settings.GROUPS.get(s.group()))) {
        out.add(s);
      }
    }
    return out;
  }

  private static String groupNames(List<Setting<?>> settings) {
    Set<String> groups = new LinkedHashSet<>();
    settings.forEach(s -> groups.add("`" + s.group() + ".*`"));
    return String.join(", ", groups);
  }

  /** One table per group: setting, type, default, range, meaning. */
  public static String markdown() {
    StringBuilder b = new StringBuilder();
    for (String heading : headings()) {
      List<Setting<?>> settings = under(heading);
      b.append("### ").append(heading).append(" (").append(groupNames(settings)).append(")\n\n");
      b.append("| Setting | Type | Default | Range | Meaning |\n");
      b.append("|---|---|---|---|---|\n");
      for (Setting<?> s : settings) {
        String def = s.absent() instanceof Setting.Absent.Fixed ? "`" + s.defaultText() + "`" : s.defaultText();
        b.append("| `").append(s.name()).append("` | ").append(s.type().kind()).append(" | ").append(cell(def))
            .append(" | ").append(cell(s.type().range())).append(" | ").append(cell(s.description())).append(" |\n");
      }
      b.append('\n');
    }
    return b.toString();
  }

  private static String cell(String text) {
    return text.replace("|", "\\|");
  }

  /** Every setting, commented out at its default, with its meaning and range: a starting point for operators. */
  public static String properties() {
    StringBuilder b = new StringBuilder();
    b.append("# Bulwark replica settings ('bulwark serve FILE'), every one with its default; docs/configuration.md\n");
    b.append("# explains them. Paths are relative to this file. Durations take ms, s, m or h (250ms, 5s); sizes\n");
    b.append("# take B, KiB, MiB, GiB or TiB (8MiB). Unknown names are refused, so a typo cannot go unnoticed.\n");
    for (String heading : headings()) {
      b.append("\n## ").append(heading).append("\n");
      for (Setting<?> s : under(heading)) {
        b.append("\n# ").append(s.description()).append('\n');
        b.append("# ").append(s.type().kind()).append(" (").append(s.type().range()).append(')');
        switch (s.absent()) {
          case Setting.Absent.Required r -> b.append("; required\n#").append(s.name()).append("=\n");
          case Setting.Absent.Fixed f -> b.append("\n#").append(s.name()).append('=').append(s.defaultText()).append('\n');
          case Setting.Absent.Derived(String rule) -> b.append("; default: ").append(rule).append("\n#").append(s.name())
              .append("=\n");
        }
      }
    }
    return b.toString();
  }
}
