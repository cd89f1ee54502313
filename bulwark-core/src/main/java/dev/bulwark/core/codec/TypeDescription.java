package dev.bulwark.core.codec;

import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What a codec encodes, as a tree. Its canonical text ({@link #render()}) is what a table id
 * is derived from and what the database's meta table records, so a stored value always says
 * how to decode it and a changed type cannot silently read old bytes.
 */
public sealed interface TypeDescription {
  /** Names of records, unions, fields and variants: letters, digits, '.', '_', '-'. */
  Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9._-]{0,127}");

  /** One line of canonical text; equal descriptions render equally and vice versa. */
  String render();

  static String checkName(String name) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("not a valid type, field or variant name: '" + name + "'");
    }
    return name;
  }

  /** A built-in encoding such as {@code i64}, {@code utf8} or {@code bytes[32]}. */
  record Primitive(String name) implements TypeDescription {
    @Override
    public String render() {
      return name;
    }
  }

  record OptionalOf(TypeDescription element) implements TypeDescription {
    @Override
    public String render() {
      return "optional<" + element.render() + ">";
    }
  }

  record ListOf(TypeDescription element) implements TypeDescription {
    @Override
    public String render() {
      return "list<" + element.render() + ">";
    }
  }

  record MapOf(TypeDescription key, TypeDescription value) implements TypeDescription {
    @Override
    public String render() {
      return "map<" + key.render() + "," + value.render() + ">";
    }
  }

  record Field(String name, TypeDescription type) {
    public Field {
      checkName(name);
    }
  }

  record RecordOf(String name, List<Field> fields) implements TypeDescription {
    public RecordOf {
      checkName(name);
      fields = List.copyOf(fields);
    }

    @Override
    public String render() {
      return "record " + name + "{"
          + fields.stream().map(f -> f.name() + ":" + f.type().render()).collect(Collectors.joining(","))
          + "}";
    }
  }

  record Variant(int tag, String name, TypeDescription type) {
    public Variant {
      checkName(name);
      if (tag < 0) {
        throw new IllegalArgumentException("variant tags are non-negative: " + tag);
      }
    }
  }

  record UnionOf(String name, List<Variant> variants) implements TypeDescription {
    public UnionOf {
      checkName(name);
      variants = List.copyOf(variants);
    }

    @Override
    public String render() {
      return "union " + name + "{"
          + variants.stream().map(v -> v.tag() + "=" + v.name() + ":" + v.type().render())
              .collect(Collectors.joining(","))
          + "}";
    }
  }
}
