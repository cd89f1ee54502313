package dev.bulwark.cli.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How one kind of setting is written in {@code replica.properties}: the parser (which also checks
 * the allowed range), the canonical way back to text, and the range in words for messages and
 * the reference. A parser reports a bad value by throwing {@link Invalid}, optionally with the
 * reason (an unknown unit, say); the caller adds the setting's name and the value.
 *
 * @param kind the type's name in the reference: int, duration, size, ...
 * @param range the allowed values in words, as the reference and error messages show them
 * @param parser text (already stripped, never blank) to value, relative paths against the file's directory
 * @param formatter value to the text that parses back to it
 */
public record SettingType<T>(String kind, String range, Parser<T> parser, Function<T, String> formatter) {

  /** Text to value; throws {@link Invalid} when the text is not one. */
  @FunctionalInterface
  public interface Parser<T> {
    T parse(String text, Path base);
  }

  /** A value outside the type or its range; the message, if any, says why beyond the range. */
  public static final class Invalid extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Invalid(String reason) {
      super(reason);
    }
  }

  /** What a value must be, for messages: "a whole number from 1 to 64", "one of per-request, per-batch". */
  public String expectation() {
    return switch (kind) {
      case "int", "long" -> "a whole number from " + range;
      case "duration" -> "a duration from " + range + " (units ms, s, m, h)";
      case "size" -> "a size from " + range + " (units B, KiB, MiB, GiB, TiB)";
      case "port" -> "a port from " + range;
      case "enum" -> "one of " + range;
      default -> range;
    };
  }

  public T parse(String text, Path base) {
    return parser.parse(text, base);
  }

  public String format(T value) {
    return formatter.apply(value);
  }

  /** Formats a value of this type handed over as an Object (the registry holds mixed types). */
  @SuppressWarnings("unchecked")
  String formatObject(Object value) {
    return formatter.apply((T) value);
  }

  private static final Pattern INTEGER = Pattern.compile("-?[0-9][0-9_]*");

  private static long integer(String text) {
    if (!INTEGER.matcher(text).matches() || text.endsWith("_")) {
      throw new Invalid("not a whole number");
    }
    try {
      return Long.parseLong(text.replace("_", ""));
    } catch (NumberFormatException e) {
      throw new Invalid("too large");
    }
  }

  /** A whole number in [min, max]; underscores may group digits (100_000). */
  public static SettingType<Integer> integer(int min, int max) {
    return new SettingType<>("int", number(min) + " to " + number(max), (text, base) -> {
      long v = integer(text);
      if (v < min || v > max) {
        throw new Invalid(null);
      }
      return (int) v;
    }, String::valueOf);
  }

  /** A whole number in [min, max], as a long. */
  public static SettingType<Long> longInteger(long min, long max) {
    return new SettingType<>("long", number(min) + " to " + number(max), (text, base) -> {
      long v = integer(text);
      if (v < min || v > max) {
        throw new Invalid(null);
      }
      return v;
    }, String::valueOf);
  }

  private static String number(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  private static final Map<String, Long> DURATION_UNITS = units("ms", 1L, "s", 1000L, "m", 60_000L, "h", 3_600_000L);
  private static final Pattern AMOUNT = Pattern.compile("([0-9][0-9_]*)\\s*([A-Za-z]*)");

  /** A duration in [min, max] written with a unit: 250ms, 5s, 2m, 1h (0 needs none). */
  public static SettingType<Duration> duration(Duration min, Duration max) {
    return new SettingType<>("duration", duration(min) + " to " + duration(max), (text, base) -> {
      long ms = amount(text, DURATION_UNITS, "ms, s, m, h", "250ms");
      Duration d = Duration.ofMillis(ms);
      if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
        throw new Invalid(null);
      }
      return d;
    }, SettingType::duration);
  }

  static String duration(Duration d) {
    return largestUnit(d.toMillis(), DURATION_UNITS, "");
  }

  private static final Map<String, Long> SIZE_UNITS = units("B", 1L, "KiB", 1L << 10, "MiB", 1L << 20, "GiB", 1L << 30,
      "TiB", 1L << 40);

  /** A size in bytes in [min, max], written with a binary unit: 64KiB, 8MiB, 2GiB (a bare number is bytes). */
  public static SettingType<Long> size(long min, long max) {
    return new SettingType<>("size", size(min) + " to " + size(max), (text, base) -> {
      long v = amount(text, SIZE_UNITS, "B, KiB, MiB, GiB, TiB", "8MiB");
      if (v < min || v > max) {
        throw new Invalid(null);
      }
      return v;
    }, SettingType::size);
  }

  static String size(long bytes) {
    return largestUnit(bytes, SIZE_UNITS, "");
  }

  private static Map<String, Long> units(Object... nameAndFactor) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (int i = 0; i < nameAndFactor.length; i += 2) {
      out.put((String) nameAndFactor[i], (Long) nameAndFactor[i + 1]);
    }
    return Collections.unmodifiableMap(out);
  }

  private static long amount(String text, Map<String, Long> units, String unitList, String example) {
    Matcher m = AMOUNT.matcher(text);
    if (!m.matches() || m.group(1).endsWith("_")) {
      throw new Invalid("not a number with a unit (" + unitList + "), e.g. " + example);
    }
    long n = integer(m.group(1));
    String unit = m.group(2);
    long factor;
    if (unit.isEmpty()) {
      if (n != 0 && units == DURATION_UNITS) {
        throw new Invalid("a unit is needed (" + unitList + "), e.g. " + example);
      }
      factor = 1;
    } else if (units.containsKey(unit)) {
      factor = units.get(unit);
    } else {
      throw new Invalid("unknown unit '" + unit + "' (use " + unitList + ")");
    }
    try {
      return Math.multiplyExact(n, factor);
    } catch (ArithmeticException e) {
      throw new Invalid("too large");
    }
  }

  /** The value in the largest unit that divides it exactly: 8388608 -> "8MiB". */
  private static String largestUnit(long value, Map<String, Long> units, String separator) {
    String best = null;
    for (Map.Entry<String, Long> u : units.entrySet()) {
      if (best == null || value != 0 && value % u.getValue() == 0) {
        best = value / u.getValue() + separator + u.getKey();
      }
    }
    return best;
  }

  /** true or false, nothing else: a "yes" that silently meant false would be a trap. */
  public static SettingType<Boolean> bool() {
    return new SettingType<>("boolean", "true or false", (text, base) -> switch (text.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new Invalid(null);
    }, String::valueOf);
  }

  /** One of an enum's constants, written in lower case with '-' for '_' (PER_BATCH is per-batch). */
  public static <E extends Enum<E>> SettingType<E> choice(Class<E> type) {
    List<String> names = java.util.Arrays.stream(type.getEnumConstants()).map(SettingType::choiceName).toList();
    return new SettingType<>("enum", String.join(", ", names), (text, base) -> {
      for (E e : type.getEnumConstants()) {
        if (choiceName(e).equalsIgnoreCase(text) || e.name().equalsIgnoreCase(text)) {
          return e;
        }
      }
      throw new Invalid(null);
    }, SettingType::choiceName);
  }

  static String choiceName(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** A name matching {@code pattern}, described in words by {@code range}. */
  public static SettingType<String> name(String pattern, String range) {
    Pattern p = Pattern.compile(pattern);
    return new SettingType<>("name", range, (text, base) -> {
      if (!p.matcher(text).matches()) {
        throw new Invalid(null);
      }
      return text;
    }, Function.identity());
  }

  /**
   * A readable file, relative to the settings file's directory unless absolute. Checked at
   * start, so a wrong path is named before the replica opens anything.
   */
  public static SettingType<Path> file() {
    return new SettingType<>("path", "a readable file (relative to replica.properties)", (text, base) -> {
      Path p;
      try {
        p = base.resolve(text).normalize();
      } catch (java.nio.file.InvalidPathException e) {
        throw new Invalid("not a path");
      }
      if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
        throw new Invalid("no readable file at " + p);
      }
      return p;
    }, Path::toString);
  }

  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\\[?[0-9A-Fa-f:.]+]?");

  /** A host name or IP address to bind or connect to. */
  public static SettingType<String> host() {
    return new SettingType<>("host", "a host name or IP address", (text, base) -> {
      if (!HOST.matcher(text).matches()) {
        throw new Invalid(null);
      }
      return text;
    }, Function.identity());
  }

  /** A TCP port, 1 to 65535. */
  public static SettingType<Integer> port() {
    SettingType<Integer> number = integer(1, 65535);
    return new SettingType<>("port", number.range(), number.parser(), String::valueOf);
  }

  private static final Pattern PEER_ID = Pattern.compile("[A-Za-z0-9_-]{1,32}");
  private static final Pattern PEER_ADDRESS = Pattern.compile("([^\\s:=,]+|\\[[0-9A-Fa-f:.]+]):([0-9]{1,5})");

  /** Replicas' addresses: id=host:port, comma separated, each id once, ports 1 to 65535. */
  public static SettingType<Map<String, String>> peers() {
    return new SettingType<>("peers", "id=host:port, comma separated (ids of 1 to 32 of A-Z a-z 0-9 _ -)",
        (text, base) -> {
          Map<String, String> out = new LinkedHashMap<>();
          for (String part : text.split(",", -1)) {
            String entry = part.strip();
            String[] kv = entry.split("=", 2);
            if (kv.length != 2 || !PEER_ID.matcher(kv[0].strip()).matches()) {
              throw new Invalid("'" + entry + "' is not id=host:port");
            }
            Matcher address = PEER_ADDRESS.matcher(kv[1].strip());
            if (!address.matches()) {
              throw new Invalid("'" + entry + "' is not id=host:port");
            }
            int port = Integer.parseInt(address.group(2));
            if (port < 1 || port > 65535) {
              throw new Invalid("'" + entry + "' has port " + port + ", not 1 to 65535");
            }
            if (out.put(kv[0].strip(), kv[1].strip()) != null) {
              throw new Invalid("replica '" + kv[0].strip() + "' is listed twice");
            }
          }
          return Collections.unmodifiableMap(out);
        }, peers -> {
          StringBuilder b = new StringBuilder();
          peers.forEach((id, address) -> b.append(b.isEmpty() ? "" : ",").append(id).append('=').append(address));
          return b.toString();
        });
  }
}
