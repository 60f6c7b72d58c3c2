package io.xenops.driver.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineSplitterTest {
    private final List<String> lines = new ArrayList<>();

    private void feed(LineSplitter s, String text, int chunk) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i += chunk) s.feed(b, i, Math.min(chunk, b.length - i), lines::add);
    }

    @Test
    void splitsOnNewlinesAcrossReadsAndDropsCr() {
        LineSplitter s = new LineSplitter(1024);
        feed(s, "boot\r\nREADY hello vm1\nPON", 3);
        feed(s, "G t1\n", 1);
        assertThat(lines).containsExactly("boot", "READY hello vm1", "PONG t1");
    }

    @Test
    void cutsOverlongLinesAndResynchronizesAtTheNextNewline() {
        LineSplitter s = new LineSplitter(8);
        feed(s, "0123456789abcdef\nok\n", 5);
        assertThat(lines).containsExactly("01234567", "ok");
    }

    @Test
    void keepsALineExactlyAtTheCapWithCrLf() {
        LineSplitter s = new LineSplitter(4);
        feed(s, "abcd\r\nefgh\n", 1);
        assertThat(lines).containsExactly("abcd", "efgh");
    }

    @Test
    void aFloodWithoutNewlinesYieldsOneCutLine() {
        LineSplitter s = new LineSplitter(16);
        byte[] junk = new byte[4096];
        java.util.Arrays.fill(junk, (byte) 'x');
        for (int i = 0; i < 1000; i++) s.feed(junk, 0, junk.length, lines::add);
        assertThat(lines).containsExactly("x".repeat(16));
    }
}
