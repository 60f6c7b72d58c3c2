package io.xenops.driver.xen;

import io.xenops.xenstore.transport.Transport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A client's transport that delivers the first successful reply to a READ of a matching path late, as a
 * xenstored or a dom0 starved of CPU would: the blocking call gives up before the reply comes. Replies
 * that are errors (ENOENT) pass at once and are counted, so a test can tell when a reader has seen the
 * node absent. Everything else passes straight through.
 */
final class StallingTransport implements Transport {
    private static final int XS_READ = 2;
    private static final int XS_ERROR = 16;
    private static final int HEADER = 16;
    private static final ByteBuffer EOF = ByteBuffer.allocate(0);

    private final Transport delegate;
    private final Predicate<String> paths;
    private final Duration hold;
    private final Set<Integer> watchedReads = ConcurrentHashMap.newKeySet();
    private final LinkedBlockingQueue<ByteBuffer> toClient = new LinkedBlockingQueue<>();
    private final AtomicBoolean stalledOne = new AtomicBoolean();
    private final AtomicInteger absentReplies = new AtomicInteger();
    private ByteBuffer current = ByteBuffer.allocate(0);

    StallingTransport(Transport delegate, Predicate<String> paths, Duration hold) {
        this.delegate = delegate;
        this.paths = paths;
        this.hold = hold;
        Thread.ofVirtual().start(this::pump);
    }

    /** Whether a successful reply was held back. */
    boolean stalled() {
        return stalledOne.get();
    }

    /** Error replies (the node was absent) to READs of a matching path. */
    int absentReplies() {
        return absentReplies.get();
    }

    /** Splits the server's stream into frames and hands them on, holding back the one to stall. */
    private void pump() {
        ByteBuffer acc = ByteBuffer.allocate(256 * 1024).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        try {
            while (true) {
                buf.clear();
                if (delegate.read(buf) < 0) break;
                buf.flip();
                acc.put(buf);
                acc.flip();
                while (acc.remaining() >= HEADER && acc.remaining() >= HEADER + acc.getInt(acc.position() + 12)) {
                    int type = acc.getInt(acc.position());
                    int reqId = acc.getInt(acc.position() + 4);
                    int len = HEADER + acc.getInt(acc.position() + 12);
                    byte[] frame = new byte[len];
                    acc.get(frame);
                    deliver(type, reqId, ByteBuffer.wrap(frame));
                }
                acc.compact();
            }
        } catch (IOException e) {
            // closed
        }
        toClient.add(EOF);
    }

    private void deliver(int type, int reqId, ByteBuffer frame) {
        if (!watchedReads.remove(reqId)) {
            toClient.add(frame);
        } else if (type == XS_ERROR) {
            absentReplies.incrementAndGet();
            toClient.add(frame);
        } else if (stalledOne.compareAndSet(false, true)) {
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(hold);
                } catch (InterruptedException e) {
                    return;
                }
                toClient.add(frame);
            });
        } else {
            toClient.add(frame);
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        try {
            while (!current.hasRemaining()) {
                current = toClient.take();
                if (current == EOF) {
                    toClient.add(EOF);
                    return -1;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
        int n = Math.min(dst.remaining(), current.remaining());
        dst.put(current.slice(current.position(), n));
        current.position(current.position() + n);
        return n;
    }

    @Override
    public void write(List<ByteBuffer> frames) throws IOException {
        for (ByteBuffer frame : frames) {
            ByteBuffer f = frame.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            if (f.remaining() >= HEADER && f.getInt(f.position()) == XS_READ && paths.test(path(f))) {
                watchedReads.add(f.getInt(f.position() + 4));
            }
        }
        delegate.write(frames);
    }

    private static String path(ByteBuffer frame) {
        int start = frame.position() + HEADER;
        int end = start;
        while (end < frame.limit() && frame.get(end) != 0) end++;
        byte[] b = new byte[end - start];
        frame.get(start, b);
        return new String(b, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }

    @Override
    public String describe() {
        return "stalling " + delegate.describe();
    }
}
