package dev.bulwark.cli.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * One setting of {@code replica.properties}: its dotted name, type and range, what happens when
 * it is absent, and one line saying what it does. The registry ({@link Settings}) lists them all;
 * the parser, the error messages, {@code bulwark config defaults} and docs/configuration.md are
 * all generated from these values, so they cannot disagree.
 *
 * @param name the property name, grouped by its first segment (engine.batchRequestsMax)
 * @param type how the value is written, and its range
 * @param absent what an absent (or blank) value means
 * @param description one line for the reference
 * @param recordName the name the validating config record uses in its own messages, when it differs
 */
public record Setting<T>(String name, SettingType<T> type, Absent absent, String description, Optional<String> recordName) {

  /** What an absent setting means. */
  public sealed interface Absent {
    /** Start-up fails: the setting has no sensible default. */
    record Required() implements Absent {}

    /** This value, written as in the file (and checked against the type when the registry loads). */
    record Fixed(String text) implements Absent {}

    /** Computed from other settings, as {@code rule} says in words. */
    record Derived(String rule) implements Absent {}
  }

  public Setting {
    Objects.requireNonNull(name);
    Objects.requireNonNull(type);
    Objects.requireNonNull(absent);
    Objects.requireNonNull(description);
    Objects.requireNonNull(recordName);
    if (!name.matches("[a-z]+\\.[A-Za-z]+")) {
      throw new IllegalArgumentException("setting names are group.camelCase: " + name);
    }
    if (absent instanceof Absent.Fixed(String text)) {
      type.parse(text, Path.of("."));
    }
  }

  static <T> Setting<T> required(String name, SettingType<T> type, String description) {
    return new Setting<>(name, type, new Absent.Required(), description, Optional.empty());
  }

  static <T> Setting<T> optional(String name, SettingType<T> type, String defaultText, String description) {
    return new Setting<>(name, type, new Absent.Fixed(defaultText), description, Optional.empty());
  }

  static <T> Setting<T> derived(String name, SettingType<T> type, String rule, String description) {
    return new Setting<>(name, type, new Absent.Derived(rule), description, Optional.empty());
  }

  /** The same setting, known to its config record as {@code other}. */
  Setting<T> knownAs(String other) {
    return new Setting<>(name, type, absent, description, Optional.of(other));
  }

  /** The group: the name's first segment (engine, raft, ...). */
  public String group() {
    return name.substring(0, name.indexOf('.'));
  }

  /** The default as the reference shows it: the value, the rule, or "required". */
  public String defaultText() {
    return switch (absent) {
      case Absent.Required r -> "required";
      case Absent.Fixed(String text) -> type.format(type.parse(text, Path.of(".")));
      case Absent.Derived(String rule) -> rule;
    };
  }
}
