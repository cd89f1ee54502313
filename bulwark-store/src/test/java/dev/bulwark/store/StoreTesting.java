package dev.bulwark.store;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.kv.Cursor;
import dev.bulwark.core.kv.Entry;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.ReadView;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;

/** Small helpers shared by the store tests: key literals and bounded scans. */
final class StoreTesting {
  /** No test store holds more entries than this; a scan that reaches it is a bug. */
  static final int SCAN_ENTRIES_MAX = 1_000_000;

  private StoreTesting() {}

  static Bytes utf8(String text) {
    return Bytes.utf8(text);
  }

  /** Bytes from unsigned values 0..255, so 0x80..0xFF read as written. */
  static Bytes raw(int... unsigned) {
    byte[] out = new byte[unsigned.length];
    for (int i = 0; i < unsigned.length; i++) {
      if (unsigned[i] < 0 || unsigned[i] > 0xFF) {
        throw new IllegalArgumentException("not a byte: " + unsigned[i]);
      }
      out[i] = (byte) unsigned[i];
    }
    return Bytes.adopt(out);
  }

  /** Every entry of {@code range}, in the order the view returns them, closing the cursor. */
  static List<Entry> scanAll(ReadView view, KeyRange range) {
    List<Entry> out = new ArrayList<>();
    try (Cursor cursor = view.scan(range)) {
      while (cursor.hasNext()) {
        if (out.size() >= SCAN_ENTRIES_MAX) {
          throw new AssertionError("scan of " + range + " returned more than " + SCAN_ENTRIES_MAX + " entries");
        }
        out.add(cursor.next());
      }
    }
    return out;
  }

  static List<Entry> scanAll(ReadView view) {
    return scanAll(view, KeyRange.ALL);
  }

  /** The entries a sorted map holds in {@code range}, at most {@code limit}: what a scan must return. */
  static List<Entry> expected(NavigableMap<Bytes, Bytes> model, KeyRange range, int limit) {
    NavigableMap<Bytes, Bytes> slice = range.end() == null
        ? model.tailMap(range.start(), true)
        : model.subMap(range.start(), true, range.end(), false);
    List<Entry> out = new ArrayList<>();
    for (Map.Entry<Bytes, Bytes> e : slice.entrySet()) {
      if (out.size() >= limit) {
        break;
      }
      out.add(new Entry(e.getKey(), e.getValue()));
    }
    return out;
  }

  static List<Entry> expected(NavigableMap<Bytes, Bytes> model, KeyRange range) {
    return expected(model, range, Integer.MAX_VALUE);
  }

  static Entry entry(Bytes key, Bytes value) {
    return new Entry(key, value);
  }

  static Entry entry(String key, String value) {
    return new Entry(utf8(key), utf8(value));
  }

  /**
   * A command that runs {@code mainClass} in a fresh JVM of this one's Java with the test class
   * path and the flags RocksDB and LevelDB need on Java 25. A fatal error log, if the child
   * crashes in native code, goes to {@code crashLogDirectory}.
   */
  static List<String> childJvm(Path crashLogDirectory, Class<?> mainClass, String... args) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx256m",
        "-XX:ErrorFile=" + crashLogDirectory.resolve("hs_err_pid%p.log"),
        "-cp", System.getProperty("java.class.path"),
        mainClass.getName()));
    command.addAll(List.of(args));
    return command;
  }
}
