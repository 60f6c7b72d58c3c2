package io.xenops.ctl.render;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TextTest {
    @Test
    void cellsShowEveryControlCharacter() {
        assertThat(Text.cell("plain")).isEqualTo("plain");
        assertThat(Text.cell("a\tb\r\nc\u0000\u007f\u009b")).isEqualTo("a\\tb\\r\\nc\\x00\\x7f\\x9b");
        assertThat(Text.cell(null)).isEmpty();
    }

    @Test
    void linesKeepLayoutButNotEscapes() {
        assertThat(Text.lines("one\r\ntwo\n\tthree")).isEqualTo("one\ntwo\n\tthree");
        assertThat(Text.lines("bell\u0007 lone\rcr")).isEqualTo("bell\\x07 lone\\rcr");
        assertThat(Text.lines("ünïcode ✓")).isEqualTo("ünïcode ✓");
    }
}
