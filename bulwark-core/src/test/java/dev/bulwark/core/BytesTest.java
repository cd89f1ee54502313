package dev.bulwark.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.core.testing.Gens;
import dev.bulwark.core.testing.Seeded;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class BytesTest {
  private static Bytes hex(String hex) {
    return Bytes.fromHex(hex);
  }

  @Test
  void prefixEndIncrementsTheLastByteBelowFf() {
    assertThat(hex("00").prefixEnd()).isEqualTo(hex("01"));
    assertThat(hex("617a").prefixEnd()).isEqualTo(hex("617b"));
    assertThat(hex("7f").prefixEnd()).isEqualTo(hex("80")); // no signed overflow
    assertThat(hex("01ff").prefixEnd()).isEqualTo(hex("02"));
    assertThat(hex("01feffff").prefixEnd()).isEqualTo(hex("01ff"));
    assertThat(hex("00ff00").prefixEnd()).isEqualTo(hex("00ff01"));
  }

  @Test
  void prefixEndOfAllFfOrEmptyIsNull() {
    assertThat(hex("ff").prefixEnd()).isNull();
    assertThat(hex("ffffffff").prefixEnd()).isNull();
    assertThat(Bytes.EMPTY.prefixEnd()).isNull();
  }

  @Test
  void prefixEndBoundsExactlyTheStringsWithThePrefix() {
    Seeded.forAll("prefixEnd bounds the prefix", 3000, r -> {
      Bytes prefix = Gens.bytesFrom(r, 4, (byte) 0x00, (byte) 0x7F, (byte) 0x80, (byte) 0xFE, (byte) 0xFF);
      Bytes other = r.nextBoolean() ? prefix.concat(Gens.bytes(r, 3)) : Gens.bytesFrom(r, 6, (byte) 0x00, (byte) 0x7F, (byte) 0x80, (byte) 0xFE, (byte) 0xFF);
      Bytes end = prefix.prefixEnd();
      boolean inRange = other.compareTo(prefix) >= 0 && (end == null || other.compareTo(end) < 0);
      assertThat(inRange).as("%s in [%s, %s)", other, prefix, end).isEqualTo(other.startsWith(prefix));
      if (end != null) {
        assertThat(end).isGreaterThan(prefix);
        assertThat(end.startsWith(prefix)).isFalse();
      }
    });
  }

  @Test
  void compareToIsUnsignedLexicographic() {
    assertThat(hex("80")).isGreaterThan(hex("7f")); // a signed comparison would say less
    assertThat(hex("ff")).isGreaterThan(hex("00"));
    assertThat(hex("01")).isLessThan(hex("0100")); // a prefix sorts first
    assertThat(Bytes.EMPTY).isLessThan(hex("00"));
    assertThat(hex("00ff").compareTo(hex("0100"))).isNegative();
    assertThat(hex("abcd").compareTo(hex("abcd"))).isZero();
    Seeded.forAll("compareTo matches unsigned comparison", 2000, r -> {
      Bytes a = Gens.bytes(r, 4);
      Bytes b = Gens.bytes(r, 4);
      int expected = 0;
      int n = Math.min(a.length(), b.length());
      for (int i = 0; i < n && expected == 0; i++) {
        expected = Integer.compare(a.at(i) & 0xFF, b.at(i) & 0xFF);
      }
      if (expected == 0) {
        expected = Integer.compare(a.length(), b.length());
      }
      assertThat(Integer.signum(a.compareTo(b))).isEqualTo(Integer.signum(expected));
      assertThat(Integer.signum(b.compareTo(a))).isEqualTo(-Integer.signum(expected));
      assertThat(a.compareTo(b) == 0).isEqualTo(a.equals(b));
    });
  }

  @Test
  void startsWith() {
    assertThat(hex("0102").startsWith(hex("01"))).isTrue();
    assertThat(hex("0102").startsWith(hex("0102"))).isTrue();
    assertThat(hex("0102").startsWith(Bytes.EMPTY)).isTrue();
    assertThat(hex("0102").startsWith(hex("010203"))).isFalse();
    assertThat(hex("0102").startsWith(hex("02"))).isFalse();
    assertThat(Bytes.EMPTY.startsWith(Bytes.EMPTY)).isTrue();
    assertThat(Bytes.EMPTY.startsWith(hex("00"))).isFalse();
  }

  @Test
  void sliceAndConcat() {
    Bytes bytes = hex("0001020304");
    assertThat(bytes.slice(1, 3)).isEqualTo(hex("0102"));
    assertThat(bytes.slice(0, 5)).isEqualTo(bytes);
    assertThat(bytes.slice(2, 2)).isSameAs(Bytes.EMPTY);
    assertThat(bytes.slice(0, 2).concat(bytes.slice(2, 5))).isEqualTo(bytes);
    assertThat(bytes.concat(Bytes.EMPTY)).isSameAs(bytes);
    assertThat(Bytes.EMPTY.concat(bytes)).isEqualTo(bytes);
    assertThatThrownBy(() -> bytes.slice(3, 9)).isInstanceOf(IndexOutOfBoundsException.class);
    Seeded.forAll("slice and concat", 1000, r -> {
      Bytes a = Gens.bytes(r, 10);
      int from = r.nextInt(a.length() + 1);
      int to = from + r.nextInt(a.length() - from + 1);
      assertThat(a.slice(0, from).concat(a.slice(from, to)).concat(a.slice(to, a.length()))).isEqualTo(a);
      assertThat(a.slice(from, to).length()).isEqualTo(to - from);
      assertThat(a.startsWith(a.slice(0, from))).isTrue();
    });
  }

  @Test
  void ofCopiesAndAdoptDoesNot() {
    byte[] source = {1, 2, 3};
    Bytes copied = Bytes.of(source);
    Bytes adopted = Bytes.adopt(source);
    source[0] = 9;
    assertThat(copied).isEqualTo(hex("010203"));
    assertThat(adopted).isEqualTo(hex("090203"));
    byte[] out = copied.toByteArray();
    out[1] = 9;
    assertThat(copied).isEqualTo(hex("010203"));
    assertThat(Bytes.of(new byte[] {5, 6, 7, 8}, 1, 2)).isEqualTo(hex("0607"));
    assertThat(Bytes.of()).isSameAs(Bytes.EMPTY);
    assertThat(Bytes.adopt(new byte[0])).isSameAs(Bytes.EMPTY);
  }

  @Test
  void equalityHashAndText() {
    assertThat(hex("00ff")).isEqualTo(Bytes.of((byte) 0, (byte) 0xFF)).hasSameHashCodeAs(Bytes.of((byte) 0, (byte) 0xFF));
    assertThat(hex("00ff")).isNotEqualTo(hex("00fe"));
    assertThat(hex("00ff").hashCode()).isEqualTo(Arrays.hashCode(new byte[] {0, (byte) 0xFF}));
    assertThat(hex("00ff").hex()).isEqualTo("00ff");
    assertThat(hex("00ff").toString()).isEqualTo("00ff");
    assertThat(Bytes.utf8("é")).isEqualTo(hex("c3a9"));
    assertThat(Bytes.adopt(new byte[100]).toString()).endsWith("…(100 bytes)").startsWith("00".repeat(64));
    assertThat(hex("0a").at(0)).isEqualTo((byte) 10);
    assertThat(hex("0a").length()).isEqualTo(1);
    assertThat(Bytes.EMPTY.isEmpty()).isTrue();
  }
}
