package io.xenops.ctl.render;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TableTest {
    private static String print(Table t) {
        StringWriter buf = new StringWriter();
        t.print(new PrintWriter(buf));
        return buf.toString();
    }

    @Test
    void alignsColumnsWithoutTrailingBlanks() {
        Table t = new Table("NAME", "N", "NOTE").alignRight(1);
        t.row("a", "1", "short");
        t.row("longer-name", "100", "");

        assertThat(print(t)).isEqualTo("""
                NAME           N  NOTE
                a              1  short
                longer-name  100  -
                """);
    }

    @Test
    void escapesControlCharactersSoARowStaysOneLine() {
        Table t = new Table("A", "B");
        t.row("x\ny", "\u001b[31mred");

        assertThat(print(t)).isEqualTo("A     B\nx\\ny  \\x1b[31mred\n");
    }

    @Test
    void keyValueModeHasNoHeader() {
        Table t = new Table("K", "V").noHeader();
        t.row("id", "1");
        t.row("image", "hello");

        assertThat(print(t)).isEqualTo("id     1\nimage  hello\n");
    }

    @Test
    void rejectsRowsOfTheWrongWidth() {
        assertThatThrownBy(() -> new Table("A", "B").row("only one"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
