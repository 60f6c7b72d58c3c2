package io.xenops.driver.qemu;

import java.nio.charset.StandardCharsets;

/**
 * The last N bytes of a console: a ring that overwrites its oldest bytes, so a guest printing without
 * end costs a fixed amount of memory.
 */
final class TailBuffer {
    private final byte[] ring;
    private long written; // total bytes ever appended; the ring holds the last min(written, size)

    TailBuffer(int size) {
        ring = new byte[size];
    }

    synchronized void append(byte[] src, int off, int len) {
        if (len >= ring.length) {
            // Only the last ring.length bytes can survive anyway.
            off += len - ring.length;
            len = ring.length;
        }
        int pos = (int) (written % ring.length);
        int first = Math.min(len, ring.length - pos);
        System.arraycopy(src, off, ring, pos, first);
        System.arraycopy(src, off + first, ring, 0, len - first);
        written += len;
    }

    /** Total bytes ever seen, including those overwritten. */
    synchronized long written() {
        return written;
    }

    @Override
    public synchronized String toString() {
        int size = (int) Math.min(written, ring.length);
        byte[] out = new byte[size];
        int start = (int) ((written - size) % ring.length);
        int first = Math.min(size, ring.length - start);
        System.arraycopy(ring, start, out, 0, first);
        System.arraycopy(ring, 0, out, first, size - first);
        // The cut may split a UTF-8 sequence; the decoder substitutes U+FFFD, which is fine for a log.
        return new String(out, StandardCharsets.UTF_8);
    }
}
