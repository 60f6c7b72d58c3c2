package io.xenops.driver.xen;

import java.nio.charset.StandardCharsets;

/** The last N bytes a guest printed: a fixed ring, so a flooding guest costs a fixed amount of memory. */
final class ConsoleTail {
    private final byte[] ring;
    private long written;

    ConsoleTail(int capacity) {
        ring = new byte[capacity];
    }

    synchronized void append(byte[] b, int off, int len) {
        for (int i = 0; i < len; i++) ring[(int) ((written + i) % ring.length)] = b[off + i];
        written += len;
    }

    synchronized String text() {
        int n = (int) Math.min(written, ring.length);
        byte[] out = new byte[n];
        long start = written - n;
        for (int i = 0; i < n; i++) out[i] = ring[(int) ((start + i) % ring.length)];
        return new String(out, StandardCharsets.ISO_8859_1);
    }
}
