package dev.bulwark.cli;

import java.util.Optional;

/**
 * Fields of a Linux {@code /proc/PID/stat} (or {@code /proc/PID/task/TID/stat}) line. The
 * command name (field 2) is in parentheses and may hold spaces or parentheses itself, so the
 * fields are counted after the last ')'.
 */
public final class ProcStat {
  private ProcStat() {}

  /** The first field after the command name: the process state. */
  public static final int FIRST_FIELD = 3;

  /**
   * The fields from {@link #FIRST_FIELD} on (index 0 is field 3, index n - 3 is field n); empty if
   * the line has no command name or fewer than {@code atLeast} fields after it.
   */
  public static Optional<String[]> fieldsAfterName(String stat, int atLeast) {
    int close = stat.lastIndexOf(')');
    if (close < 0) {
      return Optional.empty();
    }
    String[] fields = stat.substring(close + 1).trim().split("\\s+");
    return fields.length < atLeast ? Optional.empty() : Optional.of(fields);
  }
}
