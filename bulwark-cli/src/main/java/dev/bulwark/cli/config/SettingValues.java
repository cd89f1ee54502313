package dev.bulwark.cli.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Every setting's value after parsing: as written, or its default, or derived from others.
 * Complete by construction ({@link Settings#parse} fills every registered setting).
 */
public final class SettingValues {
  private final Map<Setting<?>, Object> values;

  SettingValues(Map<Setting<?>, Object> values) {
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
  }

  /** The setting's value; every registered setting has one. */
  @SuppressWarnings("unchecked")
  public <T> T get(Setting<T> setting) {
    return (T) Objects.requireNonNull(values.get(setting), () -> setting.name() + " has no value");
  }

  /** The value as the reference writes it (canonical units), for messages. */
  public String text(Setting<?> setting) {
    return setting.type().formatObject(values.get(setting));
  }
}
