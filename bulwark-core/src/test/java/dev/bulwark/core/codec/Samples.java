package dev.bulwark.core.codec;

import static dev.bulwark.core.codec.Codecs.bool;
import static dev.bulwark.core.codec.Codecs.bytes;
import static dev.bulwark.core.codec.Codecs.digest;
import static dev.bulwark.core.codec.Codecs.field;
import static dev.bulwark.core.codec.Codecs.i32;
import static dev.bulwark.core.codec.Codecs.i64;
import static dev.bulwark.core.codec.Codecs.keyUtf8;
import static dev.bulwark.core.codec.Codecs.list;
import static dev.bulwark.core.codec.Codecs.map;
import static dev.bulwark.core.codec.Codecs.optional;
import static dev.bulwark.core.codec.Codecs.u8;
import static dev.bulwark.core.codec.Codecs.utf8;
import static dev.bulwark.core.codec.Codecs.varI64;
import static dev.bulwark.core.codec.Codecs.varU32;
import static dev.bulwark.core.codec.Codecs.varU64;
import static dev.bulwark.core.codec.Codecs.variant;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.testing.Gens;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Test types shared by the codec tests: a sealed union with record variants (tags 0, 1, 5
 * and 300, so that one tag needs a two-byte varint) and a composite document record that
 * nests lists, maps, optionals, the union, strings and varints.
 */
final class Samples {
  private Samples() {}

  sealed interface Shape permits Circle, Rect, Label, Polygon {}

  record Circle(long radius) implements Shape {}

  record Rect(int width, int height) implements Shape {}

  record Label(String text, Optional<Digest> font) implements Shape {}

  record Polygon(List<Long> xs, boolean closed) implements Shape {}

  static final Codec<Circle> CIRCLE = Codecs.record("test.Circle", field("radius", varI64(), Circle::radius), Circle::new);

  static final Codec<Rect> RECT = Codecs.record("test.Rect",
      field("width", varU32(), Rect::width), field("height", i32(), Rect::height), Rect::new);

  static final Codec<Label> LABEL = Codecs.record("test.Label",
      field("text", utf8(), Label::text), field("font", optional(digest()), Label::font), Label::new);

  static final Codec<Polygon> POLYGON = Codecs.record("test.Polygon",
      field("xs", list(i64()), Polygon::xs), field("closed", bool(), Polygon::closed), Polygon::new);

  static final Codec<Shape> SHAPE = Codecs.union("test.Shape", Shape.class,
      variant(0, "circle", Circle.class, CIRCLE),
      variant(1, "rect", Rect.class, RECT),
      variant(5, "label", Label.class, LABEL),
      variant(300, "polygon", Polygon.class, POLYGON));

  record Meta(int level, boolean pinned, Optional<Long> expires) {}

  static final Codec<Meta> META = Codecs.record("test.Meta",
      field("level", u8(), Meta::level), field("pinned", bool(), Meta::pinned),
      field("expires", optional(i64()), Meta::expires), Meta::new);

  record Doc(String title, long sequence, List<Shape> shapes, Map<String, Long> attributes, Optional<Meta> meta,
      Map<Bytes, List<Integer>> index) {}

  static final Codec<Doc> DOC = Codecs.record("test.Doc",
      field("title", utf8(), Doc::title),
      field("sequence", varU64(), Doc::sequence),
      field("shapes", list(SHAPE), Doc::shapes),
      field("attributes", map(keyUtf8(), varI64()), Doc::attributes),
      field("meta", optional(META), Doc::meta),
      field("index", map(bytes(), list(varU32())), Doc::index),
      Doc::new);

  static Shape shape(SplittableRandom r) {
    return switch (r.nextInt(4)) {
      case 0 -> new Circle(Gens.anyLong(r));
      case 1 -> new Rect(Gens.nonNegativeInt(r), Gens.anyInt(r));
      case 2 -> new Label(Gens.string(r, 6), Gens.optionalOf(r, Gens::digest));
      default -> new Polygon(Gens.listOf(r, 4, Gens::anyLong), r.nextBoolean());
    };
  }

  static Meta meta(SplittableRandom r) {
    return new Meta(r.nextInt(256), r.nextBoolean(), Gens.optionalOf(r, Gens::anyLong));
  }

  static Doc doc(SplittableRandom r) {
    return new Doc(
        Gens.string(r, 8),
        Gens.anyLong(r),
        Gens.listOf(r, 4, Samples::shape),
        Gens.mapOf(r, 4, s -> Gens.string(s, 3), Gens::anyLong),
        Gens.optionalOf(r, Samples::meta),
        Gens.mapOf(r, 3, s -> Gens.bytes(s, 4), s -> Gens.listOf(s, 3, Gens::nonNegativeInt)));
  }
}
