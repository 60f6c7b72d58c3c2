package io.xenops.driver.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TailBufferTest {
    private static void append(TailBuffer t, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        t.append(b, 0, b.length);
    }

    @Test
    void keepsEverythingUntilFull() {
        TailBuffer t = new TailBuffer(16);
        append(t, "hello ");
        append(t, "world");
        assertThat(t).hasToString("hello world");
    }

    @Test
    void keepsTheLastBytesWhenWrapping() {
        TailBuffer t = new TailBuffer(8);
        for (char c = 'a'; c <= 'z'; c++) append(t, String.valueOf(c));
        assertThat(t).hasToString("stuvwxyz");
        assertThat(t.written()).isEqualTo(26);
    }

    @Test
    void aChunkLargerThanTheRingKeepsItsEnd() {
        TailBuffer t = new TailBuffer(4);
        append(t, "ab");
        append(t, "0123456789");
        assertThat(t).hasToString("6789");
        append(t, "XY");
        assertThat(t).hasToString("89XY");
    }
}
