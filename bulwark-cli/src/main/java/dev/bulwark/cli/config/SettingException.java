package dev.bulwark.cli.config;

import java.util.List;

/** Settings that cannot be used as written: one line per problem, each naming its setting. */
public final class SettingException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String[] problems;

  public SettingException(List<String> problems) {
    super(String.join("\n", problems));
    this.problems = problems.toArray(String[]::new);
  }

  public List<String> problems() {
    return List.of(problems);
  }
}
