package dev.bulwark.cli.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The value syntax: units, ranges and the canonical text written back. */
class SettingTypeTest {
  static final Path HERE = Path.of(".");

  @Test
  void durationsTakeAUnitAndPrintInTheLargestExactOne() {
    SettingType<Duration> t = SettingType.duration(Duration.ZERO, Duration.ofHours(2));
    assertThat(t.parse("250ms", HERE)).isEqualTo(Duration.ofMillis(250));
    assertThat(t.parse("5 s", HERE)).isEqualTo(Duration.ofSeconds(5));
    assertThat(t.parse("0", HERE)).isEqualTo(Duration.ZERO);
    assertThat(t.format(Duration.ofMillis(120_000))).isEqualTo("2m");
    assertThat(t.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
    assertThat(t.format(Duration.ofHours(1))).isEqualTo("1h");
    assertThatThrownBy(() -> t.parse("3h", HERE)).isInstanceOf(SettingType.Invalid.class);
    assertThatThrownBy(() -> t.parse("1.5s", HERE)).hasMessageContaining("not a number with a unit");
    assertThatThrownBy(() -> t.parse("10", HERE)).hasMessageContaining("a unit is needed");
  }

  @Test
  void sizesTakeBinaryUnitsOrBareBytes() {
    SettingType<Long> t = SettingType.size(0, 1L << 40);
    assertThat(t.parse("8MiB", HERE)).isEqualTo(8L << 20);
    assertThat(t.parse("1_024", HERE)).isEqualTo(1024L);
    assertThat(t.format(3L << 30)).isEqualTo("3GiB");
    assertThat(t.format(1000L)).isEqualTo("1000B");
    assertThatThrownBy(() -> t.parse("8mb", HERE)).hasMessageContaining("unknown unit 'mb'");
    assertThatThrownBy(() -> t.parse("9999999TiB", HERE)).hasMessageContaining("too large");
  }

  @Test
  void wholeNumbersAndChoicesAreStrict() {
    assertThat(SettingType.integer(1, 10).parse("10", HERE)).isEqualTo(10);
    assertThatThrownBy(() -> SettingType.integer(1, 10).parse("11", HERE)).isInstanceOf(SettingType.Invalid.class);
    assertThatThrownBy(() -> SettingType.integer(1, 10).parse("1_", HERE)).hasMessageContaining("not a whole number");
    assertThatThrownBy(() -> SettingType.bool().parse("1", HERE)).isInstanceOf(SettingType.Invalid.class);
    assertThat(SettingType.bool().parse("TRUE", HERE)).isTrue();
  }

  @Test
  void peersKeepTheirOrder() {
    var t = SettingType.peers();
    var peers = t.parse("r2=b:2, r1=[::1]:1", HERE);
    assertThat(peers.keySet()).containsExactly("r2", "r1");
    assertThat(t.format(peers)).isEqualTo("r2=b:2,r1=[::1]:1");
    assertThatThrownBy(() -> t.parse("r1=a:1,", HERE)).hasMessageContaining("is not id=host:port");
  }
}
