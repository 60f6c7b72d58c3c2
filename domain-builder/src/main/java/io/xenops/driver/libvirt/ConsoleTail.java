package io.xenops.driver.libvirt;

import java.nio.charset.StandardCharsets;

/** The last N bytes a console printed: a ring, so a guest that never stops printing costs a fixed amount. */
final class ConsoleTail {
    private final byte[] ring;
    private long total;

    ConsoleTail(int capacity) {
        ring = new byte[capacity];
    }

    synchronized void append(byte[] src, int off, int len) {
        if (len > ring.length) { // only the last ring.length bytes could survive
            off += len - ring.length;
            len = ring.length;
        }
        int pos = (int) (total % ring.length);
        int first = Math.min(len, ring.length - pos);
        System.arraycopy(src, off, ring, pos, first);
        System.arraycopy(src, off + first, ring, 0, len - first);
        total += len;
    }

    @Override
    public synchronized String toString() {
        int n = (int) Math.min(total, ring.length);
        int start = (int) ((total - n) % ring.length);
        byte[] out = new byte[n];
        int first = Math.min(n, ring.length - start);
        System.arraycopy(ring, start, out, 0, first);
        System.arraycopy(ring, 0, out, first, n - first);
        // A cut through a multi-byte character decodes as U+FFFD: acceptable for a log tail.
        return new String(out, StandardCharsets.UTF_8);
    }
}
