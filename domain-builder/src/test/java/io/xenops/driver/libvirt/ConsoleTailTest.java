package io.xenops.driver.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ConsoleTailTest {
    private static void append(ConsoleTail t, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        t.append(b, 0, b.length);
    }

    @Test
    void keepsOnlyTheLastBytes() {
        ConsoleTail t = new ConsoleTail(8);
        append(t, "abc");
        assertThat(t.toString()).isEqualTo("abc");
        append(t, "defghij");
        assertThat(t.toString()).isEqualTo("cdefghij");
        append(t, "0123456789ABCDEF");
        assertThat(t.toString()).isEqualTo("89ABCDEF");
    }
}
