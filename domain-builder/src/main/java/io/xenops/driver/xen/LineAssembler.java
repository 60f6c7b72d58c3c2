package io.xenops.driver.xen;

import io.xenops.guest.GuestProtocol;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Splits console bytes into lines of at most {@link GuestProtocol#MAX_LINE}: the rest of a longer line
 * is dropped up to the next newline, so a guest cannot make the daemon buffer without bound.
 */
final class LineAssembler {
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final Consumer<String> sink;
    private boolean overflow;

    LineAssembler(Consumer<String> sink) {
        this.sink = sink;
    }

    void feed(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            byte c = b[i];
            if (c == '\n') {
                String s = line.toString(StandardCharsets.ISO_8859_1);
                line.reset();
                overflow = false;
                sink.accept(s.endsWith("\r") ? s.substring(0, s.length() - 1) : s);
            } else if (!overflow) {
                if (line.size() < GuestProtocol.MAX_LINE) {
                    line.write(c);
                } else {
                    overflow = true;
                }
            }
        }
    }
}
