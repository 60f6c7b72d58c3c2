package io.xenops.driver.qemu;

import java.nio.charset.StandardCharsets;

/**
 * Console bytes to lines, with a cap: a line longer than {@code maxLine} is delivered cut at the cap
 * and the rest of it, up to the next newline, is dropped. Memory stays bounded whatever the guest
 * prints, and protocol lines (at most {@link io.xenops.guest.GuestProtocol#MAX_LINE}) are never cut.
 *
 * <p>Not thread-safe: the console's reader thread owns it.
 */
final class LineSplitter {
    interface Sink {
        void onLine(String line);
    }

    private final byte[] line;
    private final int maxLine;
    private int length;
    private boolean discarding;

    LineSplitter(int maxLine) {
        this.maxLine = maxLine;
        line = new byte[maxLine + 1]; // +1: a CR before the newline does not count against the cap
    }

    void feed(byte[] buf, int off, int len, Sink sink) {
        int end = off + len;
        for (int i = off; i < end; i++) {
            byte b = buf[i];
            if (b == '\n') {
                if (!discarding) sink.onLine(take());
                discarding = false;
                length = 0;
            } else if (discarding) {
                // still inside an overlong line
            } else if (length < maxLine || (length == maxLine && b == '\r')) {
                line[length++] = b;
            } else {
                sink.onLine(take());
                length = 0;
                discarding = true;
            }
        }
    }

    private String take() {
        int n = length;
        if (n > 0 && line[n - 1] == '\r') n--;
        return new String(line, 0, n, StandardCharsets.UTF_8);
    }
}
