package dev.bulwark.core.codec;

import static dev.bulwark.core.codec.Codecs.bool;
import static dev.bulwark.core.codec.Codecs.keyBytes;
import static dev.bulwark.core.codec.Codecs.keyUtf8;
import static dev.bulwark.core.codec.Codecs.list;
import static dev.bulwark.core.codec.Codecs.map;
import static dev.bulwark.core.codec.Codecs.optional;
import static dev.bulwark.core.codec.Codecs.u64;
import static dev.bulwark.core.codec.Codecs.u8;
import static dev.bulwark.core.codec.Codecs.utf8;
import static dev.bulwark.core.codec.Codecs.varI64;
import static dev.bulwark.core.codec.Codecs.varU32;
import static dev.bulwark.core.codec.Codecs.varU64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.DecodeException.Reason;
import dev.bulwark.core.testing.Gens;
import dev.bulwark.core.testing.Seeded;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Canonical-only decoding: whatever bytes a decoder accepts must be the one encoding of the
 * value it returns. Valid encodings are mutated at random (flip, overwrite, truncate, append,
 * insert, delete, duplicate); each mutant either fails with a {@link DecodeException} (never
 * any other exception) or decodes to a value whose encoding is exactly the mutant.
 */
class CanonicalDecodingTest {

  /** Outcome counts, to show that the property was exercised both ways. */
  private static final class Tally {
    int accepted;
    int rejected;
    final Map<Reason, Integer> reasons = new EnumMap<>(Reason.class);
  }

  private static byte[] mutate(SplittableRandom r, byte[] input) {
    byte[] b = input;
    int mutations = 1 + (r.nextInt(4) == 0 ? r.nextInt(3) : 0);
    for (int m = 0; m < mutations; m++) {
      int n = b.length;
      switch (r.nextInt(7)) {
        case 0 -> { // flip some bits of one byte
          if (n > 0) {
            b = b.clone();
            b[r.nextInt(n)] ^= (byte) (1 + r.nextInt(255));
          }
        }
        case 1 -> { // overwrite one byte with an interesting or random value
          if (n > 0) {
            b = b.clone();
            b[r.nextInt(n)] = Gens.anyByte(r);
          }
        }
        case 2 -> b = Arrays.copyOf(b, n == 0 ? 0 : r.nextInt(n)); // truncate
        case 3 -> { // append
          byte[] extra = Gens.byteArray(r, 1 + r.nextInt(4));
          byte[] out = Arrays.copyOf(b, n + extra.length);
          System.arraycopy(extra, 0, out, n, extra.length);
          b = out;
        }
        case 4 -> { // insert
          int at = r.nextInt(n + 1);
          byte[] extra = Gens.byteArray(r, 1 + r.nextInt(3));
          byte[] out = new byte[n + extra.length];
          System.arraycopy(b, 0, out, 0, at);
          System.arraycopy(extra, 0, out, at, extra.length);
          System.arraycopy(b, at, out, at + extra.length, n - at);
          b = out;
        }
        case 5 -> { // delete one byte
          if (n > 0) {
            int at = r.nextInt(n);
            byte[] out = new byte[n - 1];
            System.arraycopy(b, 0, out, 0, at);
            System.arraycopy(b, at + 1, out, at, n - at - 1);
            b = out;
          }
        }
        default -> { // duplicate a short run in place
          if (n > 0) {
            int from = r.nextInt(n);
            int len = 1 + r.nextInt(Math.min(4, n - from));
            byte[] out = new byte[n + len];
            System.arraycopy(b, 0, out, 0, from + len);
            System.arraycopy(b, from, out, from + len, n - from);
            b = out;
          }
        }
      }
    }
    return b;
  }

  /** The property for one mutant; returns whether it was accepted. */
  private static <T> boolean checkMutant(Codec<T> codec, byte[] mutant, Tally tally) {
    Bytes input = Bytes.of(mutant);
    T decoded;
    try {
      decoded = codec.decode(input);
    } catch (DecodeException e) {
      assertThat(e.offset()).as("offset of %s in %s", e.reason(), input).isBetween(0L, (long) mutant.length);
      tally.rejected++;
      tally.reasons.merge(e.reason(), 1, Integer::sum);
      // The same bytes inside a larger buffer fail the same way: no reads past the slice.
      byte[] framed = new byte[mutant.length + 8];
      Arrays.fill(framed, (byte) 0x01);
      System.arraycopy(mutant, 0, framed, 4, mutant.length);
      DecodeException framedError = catchThrowableOfType(DecodeException.class, () -> {
        Decoder in = new Decoder(framed, 4, mutant.length, DecodeLimits.DEFAULT);
        codec.decode(in);
        in.requireEnd();
      });
      assertThat(framedError).as("framed decode of %s", input).isNotNull();
      assertThat(framedError.reason()).isEqualTo(e.reason());
      return false;
    }
    assertThat(codec.encode(decoded)).as("re-encoding of accepted mutant %s (decoded as %s)", input, decoded)
        .isEqualTo(input);
    tally.accepted++;
    return true;
  }

  private static <T> Tally runMutations(String name, Codec<T> codec, Function<SplittableRandom, T> generator,
      int values, int mutantsPerValue) {
    Tally tally = new Tally();
    Seeded.forAll(name + " canonical-only", values, r -> {
      byte[] valid = codec.encode(generator.apply(r)).toByteArray();
      for (int i = 0; i < mutantsPerValue; i++) {
        checkMutant(codec, mutate(r, valid), tally);
      }
    });
    return tally;
  }

  @Test
  void nestedCompositeAcceptsOnlyCanonicalEncodings() {
    Tally tally = runMutations("doc", Samples.DOC, Samples::doc, 4000, 4);
    assertThat(tally.accepted + tally.rejected).isEqualTo(16_000);
    // Both branches of the property must have been exercised, and many kinds of rejection.
    assertThat(tally.accepted).as("accepted mutants").isGreaterThan(500);
    assertThat(tally.rejected).as("rejected mutants").isGreaterThan(5_000);
    assertThat(tally.reasons).containsKeys(Reason.TRUNCATED, Reason.TRAILING_BYTES, Reason.INVALID_UTF8,
        Reason.INVALID_OPTIONAL_TAG, Reason.UNKNOWN_TAG, Reason.INVALID_BOOLEAN, Reason.UNSORTED_MAP_KEYS,
        Reason.NON_MINIMAL_INTEGER, Reason.LENGTH_LIMIT);
  }

  @Test
  void everySmallCodecAcceptsOnlyCanonicalEncodings() {
    runMutations("utf8", utf8(), r -> Gens.string(r, 8), 1000, 4);
    runMutations("keyUtf8", keyUtf8(), r -> Gens.string(r, 8), 1000, 4);
    runMutations("keyBytes", keyBytes(), r -> Gens.bytesFrom(r, 8, (byte) 0, (byte) 1, (byte) 0xFF, (byte) 0x61), 1000, 4);
    runMutations("varU64", varU64(), Gens::anyLong, 1000, 4);
    runMutations("varI64", varI64(), Gens::anyLong, 1000, 4);
    runMutations("varU32", varU32(), Gens::nonNegativeInt, 1000, 4);
    runMutations("optional key", optional(u64()), r -> Gens.optionalOf(r, Gens::anyLong), 1000, 4);
    runMutations("map(u8, bool)", map(u8(), bool()), r -> Gens.mapOf(r, 6, s -> s.nextInt(256), SplittableRandom::nextBoolean), 1000, 4);
    runMutations("union", Samples.SHAPE, Samples::shape, 1000, 4);
    Tally keys = runMutations("list(optional(keyUtf8))", list(optional(keyUtf8())),
        r -> Gens.listOf(r, 4, s -> Gens.optionalOf(s, t -> Gens.stringFrom(t, 4, 0, 'a', 0xFFFF))), 1000, 4);
    assertThat(keys.reasons).containsKeys(Reason.INVALID_KEY_ESCAPE, Reason.INVALID_OPTIONAL_TAG);
  }

  @Test
  void everyStrictPrefixIsTruncatedAndEveryExtensionHasTrailingBytes() {
    Seeded.forAll("doc prefixes", 300, r -> {
      Bytes valid = Samples.DOC.encode(Samples.doc(r));
      for (int cut = 0; cut < valid.length(); cut++) {
        Bytes prefix = valid.slice(0, cut);
        DecodeException e = catchThrowableOfType(DecodeException.class, () -> Samples.DOC.decode(prefix));
        assertThat(e).as("prefix of %d bytes of %s", cut, valid).isNotNull();
        assertThat(e.reason()).as("prefix of %d bytes of %s", cut, valid).isEqualTo(Reason.TRUNCATED);
        assertThat(e.offset()).isBetween(0L, (long) cut);
      }
      Bytes longer = valid.concat(Gens.bytes(r, 4)).concat(Bytes.of((byte) 0));
      DecodeException e = catchThrowableOfType(DecodeException.class, () -> Samples.DOC.decode(longer));
      assertThat(e.reason()).isEqualTo(Reason.TRAILING_BYTES);
      assertThat(e.offset()).isEqualTo(valid.length());
    });
  }

  @Test
  void exhaustiveShortInputsOfAnOptionalKeyStringAreCanonicalOrRejected() {
    // Every input of up to four bytes over an alphabet that hits every branch of the escape.
    KeyCodec<Optional<String>> codec = optional(keyUtf8());
    byte[] alphabet = {0x00, 0x01, 0x02, 0x61, (byte) 0x80, (byte) 0xC3, (byte) 0xFF};
    Tally tally = new Tally();
    for (int length = 0; length <= 4; length++) {
      int combinations = (int) Math.pow(alphabet.length, length);
      for (int c = 0; c < combinations; c++) {
        byte[] input = new byte[length];
        int rest = c;
        for (int i = 0; i < length; i++) {
          input[i] = alphabet[rest % alphabet.length];
          rest /= alphabet.length;
        }
        checkMutant(codec, input, tally);
      }
    }
    // Exactly five are canonical: absent, and present "", U+0001, U+0002 and "a".
    assertThat(tally.accepted).isEqualTo(5);
    assertThat(tally.rejected).isEqualTo(1 + 7 + 49 + 343 + 2401 - 5);
  }
}
