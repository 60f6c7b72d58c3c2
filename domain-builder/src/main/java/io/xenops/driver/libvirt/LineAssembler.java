package io.xenops.driver.libvirt;

import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Console bytes to lines. A line longer than the cap is delivered cut at the cap and the rest of it is
 * dropped up to the next newline, so memory stays bounded whatever the guest prints; protocol lines
 * (at most {@link io.xenops.guest.GuestProtocol#MAX_LINE}) are never cut. A trailing CR is removed.
 * Owned by one reader thread.
 */
final class LineAssembler {
    private final byte[] buf;
    private int len;
    private boolean skipping;

    LineAssembler(int maxLine) {
        buf = new byte[maxLine + 1]; // room for a CR that does not count against the cap
    }

    void feed(byte[] data, int off, int n, Consumer<String> out) {
        for (int i = off; i < off + n; i++) {
            byte b = data[i];
            if (b == '\n') {
                if (!skipping) out.accept(take());
                len = 0;
                skipping = false;
            } else if (!skipping) {
                if (len == buf.length) {
                    out.accept(take());
                    len = 0;
                    skipping = true;
                } else {
                    buf[len++] = b;
                }
            }
        }
    }

    private String take() {
        int n = len > 0 && buf[len - 1] == '\r' ? len - 1 : len;
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }
}
