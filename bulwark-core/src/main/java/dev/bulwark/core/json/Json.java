package dev.bulwark.core.json;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The small, strict JSON that Bulwark's documents (receipts, heads, proofs) are written in:
 * objects become {@code Map<String, Object>} in document order, arrays {@code List<Object>},
 * and the scalars {@code String}, {@code Long}, {@code Boolean} and {@code null}. Numbers are
 * integers only (hashes and signatures are hex strings), duplicate keys are an error, and
 * input size and nesting are bounded, so a hostile file fails fast with the offset named.
 */
public final class Json {
  /** The deepest nesting accepted. */
  public static final int DEPTH_MAX = 32;
  /** The largest document accepted, in characters. */
  public static final int LENGTH_MAX = 4 << 20;

  private final String text;
  private int pos;

  private Json(String text) {
    this.text = text;
  }

  /** Parses one JSON value; whitespace may surround it, nothing else. */
  public static Object parse(String text) {
    if (text.length() > LENGTH_MAX) {
      throw new JsonException("JSON document of " + text.length() + " characters exceeds " + LENGTH_MAX);
    }
    Json p = new Json(text);
    p.skipSpace();
    Object value = p.value(0);
    p.skipSpace();
    if (p.pos != text.length()) {
      throw p.error("unexpected text after the JSON value");
    }
    return value;
  }

  private JsonException error(String what) {
    return new JsonException("invalid JSON at character " + pos + ": " + what);
  }

  private void skipSpace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private Object value(int depth) {
    if (depth > DEPTH_MAX) {
      throw error("nested deeper than " + DEPTH_MAX);
    }
    if (pos >= text.length()) {
      throw error("unexpected end of input");
    }
    char c = text.charAt(pos);
    return switch (c) {
      case '{' -> object(depth);
      case '[' -> array(depth);
      case '"' -> string();
      case 't' -> literal("true", Boolean.TRUE);
      case 'f' -> literal("false", Boolean.FALSE);
      case 'n' -> literal("null", null);
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) {
          yield number();
        }
        throw error("unexpected character '" + c + "'");
      }
    };
  }

  private Object literal(String word, Object value) {
    if (!text.startsWith(word, pos)) {
      throw error("expected " + word);
    }
    pos += word.length();
    return value;
  }

  private Long number() {
    int start = pos;
    if (text.charAt(pos) == '-') {
      pos++;
    }
    int digitsStart = pos;
    while (pos < text.length() && Character.isDigit(text.charAt(pos)) && text.charAt(pos) < 128) {
      pos++;
    }
    if (pos == digitsStart) {
      throw error("a number needs digits");
    }
    if (text.charAt(digitsStart) == '0' && pos - digitsStart > 1) {
      throw error("numbers have no leading zeros");
    }
    if (pos < text.length() && (text.charAt(pos) == '.' || text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
      throw error("only integers are accepted");
    }
    try {
      return Long.parseLong(text.substring(start, pos));
    } catch (NumberFormatException e) {
      pos = start;
      throw error("integer out of the 64-bit range");
    }
  }

  private String string() {
    pos++; // opening quote
    StringBuilder out = new StringBuilder();
    while (true) {
      if (pos >= text.length()) {
        throw error("unterminated string");
      }
      char c = text.charAt(pos++);
      if (c == '"') {
        return out.toString();
      }
      if (c < 0x20) {
        pos--;
        throw error("control character in a string");
      }
      if (c != '\\') {
        out.append(c);
        continue;
      }
      if (pos >= text.length()) {
        throw error("unterminated escape");
      }
      char e = text.charAt(pos++);
      switch (e) {
        case '"', '\\', '/' -> out.append(e);
        case 'b' -> out.append('\b');
        case 'f' -> out.append('\f');
        case 'n' -> out.append('\n');
        case 'r' -> out.append('\r');
        case 't' -> out.append('\t');
        case 'u' -> {
          if (pos + 4 > text.length()) {
            throw error("short \\u escape");
          }
          try {
            out.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
          } catch (NumberFormatException ex) {
            throw error("bad \\u escape");
          }
          pos += 4;
        }
        default -> {
          pos--;
          throw error("unknown escape \\" + e);
        }
      }
    }
  }

  private Map<String, Object> object(int depth) {
    pos++;
    Map<String, Object> out = new LinkedHashMap<>();
    skipSpace();
    if (pos < text.length() && text.charAt(pos) == '}') {
      pos++;
      return Collections.unmodifiableMap(out);
    }
    while (true) {
      skipSpace();
      if (pos >= text.length() || text.charAt(pos) != '"') {
        throw error("expected a quoted member name");
      }
      int keyAt = pos;
      String key = string();
      if (out.containsKey(key)) {
        pos = keyAt;
        throw error("duplicate member \"" + key + "\"");
      }
      skipSpace();
      expect(':');
      skipSpace();
      out.put(key, value(depth + 1));
      skipSpace();
      if (pos < text.length() && text.charAt(pos) == ',') {
        pos++;
        continue;
      }
      expect('}');
      return Collections.unmodifiableMap(out);
    }
  }

  private List<Object> array(int depth) {
    pos++;
    List<Object> out = new ArrayList<>();
    skipSpace();
    if (pos < text.length() && text.charAt(pos) == ']') {
      pos++;
      return Collections.unmodifiableList(out);
    }
    while (true) {
      skipSpace();
      out.add(value(depth + 1));
      skipSpace();
      if (pos < text.length() && text.charAt(pos) == ',') {
        pos++;
        continue;
      }
      expect(']');
      return Collections.unmodifiableList(out);
    }
  }

  private void expect(char c) {
    if (pos >= text.length() || text.charAt(pos) != c) {
      throw error("expected '" + c + "'");
    }
    pos++;
  }

  // ---------------------------------------------------------------- writing

  /** Renders a value tree with two-space indentation, members in map order. */
  public static String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(value, out, 0);
    return out.append('\n').toString();
  }

  private static void write(Object value, StringBuilder out, int indent) {
    switch (value) {
      case null -> out.append("null");
      case String s -> quote(s, out);
      case Long l -> out.append(l);
      case Integer i -> out.append(i);
      case Boolean b -> out.append(b);
      case Map<?, ?> map -> {
        if (map.isEmpty()) {
          out.append("{}");
          return;
        }
        out.append("{\n");
        int i = 0;
        for (Map.Entry<?, ?> e : map.entrySet()) {
          out.append("  ".repeat(indent + 1));
          quote((String) e.getKey(), out);
          out.append(": ");
          write(e.getValue(), out, indent + 1);
          out.append(++i < map.size() ? ",\n" : "\n");
        }
        out.append("  ".repeat(indent)).append('}');
      }
      case List<?> list -> {
        if (list.isEmpty()) {
          out.append("[]");
          return;
        }
        out.append("[\n");
        for (int i = 0; i < list.size(); i++) {
          out.append("  ".repeat(indent + 1));
          write(list.get(i), out, indent + 1);
          out.append(i + 1 < list.size() ? ",\n" : "\n");
        }
        out.append("  ".repeat(indent)).append(']');
      }
      default -> throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
    }
  }

  private static void quote(String s, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
