package dev.bulwark.core.json;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Typed access to a parsed JSON object, with errors that name the path of the member
 * ("receipt.head.logRoot: expected 64 hex digits"), so a user can fix a hand-edited file.
 */
public final class JsonReader {
  private final String path;
  private final Map<String, Object> members;

  private JsonReader(String path, Map<String, Object> members) {
    this.path = path;
    this.members = members;
  }

  /** Reads {@code value} as an object; {@code path} names it in error messages. */
  public static JsonReader of(String path, Object value) {
    if (!(value instanceof Map<?, ?> map)) {
      throw new JsonException(path + ": expected an object");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> members = (Map<String, Object>) map;
    return new JsonReader(path, members);
  }

  private Object required(String name) {
    if (!members.containsKey(name)) {
      throw new JsonException(path + "." + name + ": missing");
    }
    return members.get(name);
  }

  /** The names of the object's members, in document order. */
  public java.util.Set<String> memberNames() {
    return members.keySet();
  }

  /** Whether member {@code name} is present and JSON {@code null}. */
  public boolean isNull(String name) {
    required(name);
    return members.get(name) == null;
  }

  public boolean has(String name) {
    return members.containsKey(name);
  }

  public String string(String name) {
    if (required(name) instanceof String s) {
      return s;
    }
    throw new JsonException(path + "." + name + ": expected a string");
  }

  public long integer(String name) {
    if (required(name) instanceof Long l) {
      return l;
    }
    throw new JsonException(path + "." + name + ": expected an integer");
  }

  public long nonNegative(String name) {
    long v = integer(name);
    if (v < 0) {
      throw new JsonException(path + "." + name + ": expected a non-negative integer, got " + v);
    }
    return v;
  }

  public JsonReader object(String name) {
    return of(path + "." + name, required(name));
  }

  public List<Object> array(String name) {
    if (required(name) instanceof List<?> list) {
      @SuppressWarnings("unchecked")
      List<Object> items = (List<Object>) list;
      return items;
    }
    throw new JsonException(path + "." + name + ": expected an array");
  }

  public Bytes hex(String name, int length) {
    return hexValue(path + "." + name, required(name), length);
  }

  public Digest digest(String name) {
    return Digest.of(hex(name, Digest.LENGTH));
  }

  /** A hex string of exactly {@code length} bytes (any length when negative). */
  public static Bytes hexValue(String path, Object value, int length) {
    if (!(value instanceof String s)) {
      throw new JsonException(path + ": expected a hex string");
    }
    if (length >= 0 && s.length() != 2 * length) {
      throw new JsonException(path + ": expected " + 2 * length + " hex digits, got " + s.length());
    }
    try {
      return Bytes.adopt(HexFormat.of().parseHex(s));
    } catch (IllegalArgumentException e) {
      throw new JsonException(path + ": not hex: " + e.getMessage());
    }
  }

  public String path() {
    return path;
  }
}
