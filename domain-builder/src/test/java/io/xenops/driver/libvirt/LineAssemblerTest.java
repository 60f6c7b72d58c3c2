package io.xenops.driver.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineAssemblerTest {
    private final List<String> lines = new ArrayList<>();

    private void feed(LineAssembler a, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        a.feed(b, 0, b.length, lines::add);
    }

    @Test
    void joinsLinesAcrossReadsAndDropsCarriageReturns() {
        LineAssembler a = new LineAssembler(64);
        feed(a, "REA");
        feed(a, "DY hello vm-1\r\nPONG t");
        assertThat(lines).containsExactly("READY hello vm-1");
        feed(a, "1\n\n");
        assertThat(lines).containsExactly("READY hello vm-1", "PONG t1", "");
    }

    @Test
    void cutsOverlongLinesAndSkipsTheirRest() {
        LineAssembler a = new LineAssembler(4);
        feed(a, "abcdefgh\nok\n");
        assertThat(lines).containsExactly("abcde", "ok"); // cap + the CR allowance
    }

    @Test
    void aLineOfExactlyTheCapIsWhole() {
        LineAssembler a = new LineAssembler(4);
        feed(a, "abcd\r\n");
        assertThat(lines).containsExactly("abcd");
    }
}
