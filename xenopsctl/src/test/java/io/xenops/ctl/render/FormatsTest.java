package io.xenops.ctl.render;

import io.xenops.ctl.api.Timings;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;

class FormatsTest {
    private final Clock clock = Clock.fixed(Instant.parse("2026-11-26T12:00:00Z"), ZoneOffset.UTC);

    @Test
    void microsecondsBecomeMillisecondsWithThreeExactDecimals() {
        assertThat(Formats.ms(0)).isEqualTo("0.000");
        assertThat(Formats.ms(7)).isEqualTo("0.007");
        assertThat(Formats.ms(412)).isEqualTo("0.412");
        assertThat(Formats.ms(2301)).isEqualTo("2.301");
        assertThat(Formats.ms(45_050)).isEqualTo("45.050");
        assertThat(Formats.ms(123_456_789)).isEqualTo("123456.789");
        assertThat(Formats.ms(-5)).isEqualTo("-0.005");
    }

    @Test
    void spawnSummaryListsOnlyTheStepsThatHappened() {
        assertThat(Formats.spawnSummary(new Timings("warm", null, 30L, 412L, null, null, 450L)))
                .isEqualTo("resumed 0.412 ms (warm)");
        assertThat(Formats.spawnSummary(new Timings(null, null, null, 412L, 2301L, null, null)))
                .isEqualTo("resumed 0.412 ms, ready 2.301 ms");
        assertThat(Formats.spawnSummary(new Timings("cold", null, null, null, null, null, null))).isEqualTo("(cold)");
        assertThat(Formats.steps(new Timings("warm", null, 30L, 412L, 2301L, 2400L, 2450L), true))
                .isEqualTo("taken 0.030 ms, resumed 0.412 ms, ready 2.301 ms, result 2.400 ms, responded 2.450 ms");
    }

    @Test
    void agesAreCompact() {
        assertThat(Formats.age("2026-11-26T11:59:15Z", clock)).isEqualTo("45s");
        assertThat(Formats.age("2026-11-26T11:50:00Z", clock)).isEqualTo("10m");
        assertThat(Formats.age("2026-11-26T07:00:00Z", clock)).isEqualTo("5h");
        assertThat(Formats.age("2026-11-20T12:00:00Z", clock)).isEqualTo("6d");
        assertThat(Formats.age("2026-11-26T13:00:00+01:00", clock)).isEqualTo("0s");
        // A daemon clock ahead of ours must not give a negative age.
        assertThat(Formats.age("2026-11-26T12:00:09Z", clock)).isEqualTo("0s");
        assertThat(Formats.age("yesterday", clock)).isNull();
        assertThat(Formats.age(null, clock)).isNull();
    }

    @Test
    void bytesUseBinaryUnits() {
        assertThat(Formats.bytes(null)).isNull();
        assertThat(Formats.bytes(512L)).isEqualTo("512 B");
        assertThat(Formats.bytes(6144L)).isEqualTo("6.0 KiB");
        assertThat(Formats.bytes(1_572_864L)).isEqualTo("1.5 MiB");
    }

    @Test
    void digestsAreShortenedToTwelveHexDigits() {
        assertThat(Formats.shortDigest("sha256:9f86d081884c7d659a2f")).isEqualTo("9f86d081884c");
        assertThat(Formats.shortDigest("abc")).isEqualTo("abc");
        assertThat(Formats.shortDigest(null)).isNull();
    }
}
