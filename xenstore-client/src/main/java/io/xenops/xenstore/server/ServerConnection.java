package io.xenops.xenstore.server;

import io.xenops.xenstore.transport.Transport;
import io.xenops.xenstore.wire.Frame;
import io.xenops.xenstore.wire.FrameEncoder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One client of the in-process server: who it is (domid, privileged or not), its transactions, and
 * a queue of frames to send. Frames are queued under the server lock and written outside it, so a
 * client that stops reading blocks only itself. Replies to a connection's own requests are written
 * by its reader thread right after the batch (one thread hand-off fewer per round trip); frames for
 * other connections (watch events) wake that connection's writer thread.
 */
final class ServerConnection {

    /** Beyond this many queued bytes the client is considered dead and dropped (xenstored caps it too). */
    private static final long MAX_QUEUED_BYTES = 64L << 20;

    final int id;
    final int domid;
    final boolean privileged;
    final Transport transport;
    final java.util.Map<Integer, TransactionState> transactions = new java.util.HashMap<>();
    private final ConcurrentLinkedQueue<ByteBuffer> outbound = new ConcurrentLinkedQueue<>();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Semaphore wake = new Semaphore(0);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong queuedBytes = new AtomicLong();
    /** Set by this connection's reader while its batch is processed: it flushes afterwards itself. */
    private volatile boolean readerWillFlush;

    ServerConnection(int id, int domid, boolean privileged, Transport transport) {
        this.id = id;
        this.domid = domid;
        this.privileged = privileged;
        this.transport = transport;
    }

    /** The base of relative paths: {@code /local/domain/<domid>}. */
    String home() {
        return "/local/domain/" + domid;
    }

    /** Queues a frame; never blocks (it is called under the server lock). */
    void send(Frame f) {
        if (closed.get()) {
            return;
        }
        byte[] bytes = FrameEncoder.encodeUnchecked(f);
        if (queuedBytes.addAndGet(bytes.length) > MAX_QUEUED_BYTES) {
            close();
            return;
        }
        outbound.add(ByteBuffer.wrap(bytes));
        if (!readerWillFlush) {
            wake.release();
        }
    }

    /** Called by the reader around processing a batch of this connection's requests. */
    void beginBatch() {
        readerWillFlush = true;
    }

    void endBatch() {
        readerWillFlush = false;
        flush();
    }

    /**
     * Writes whatever is queued. Whoever holds the write lock drains for everybody; a thread that
     * finds it taken leaves, and the holder re-checks the queue after unlocking.
     */
    void flush() {
        while (!outbound.isEmpty() && !closed.get()) {
            if (!writeLock.tryLock()) {
                return;
            }
            try {
                List<ByteBuffer> batch = new ArrayList<>();
                ByteBuffer b;
                long n = 0;
                while (batch.size() < 1024 && (b = outbound.poll()) != null) {
                    batch.add(b);
                    n += b.remaining();
                }
                if (!batch.isEmpty()) {
                    transport.write(batch);
                    queuedBytes.addAndGet(-n);
                }
            } catch (IOException e) {
                close();
            } finally {
                writeLock.unlock();
            }
        }
    }

    /** The writer thread's loop: flushes whenever woken, until closed. */
    void writeLoop() {
        try {
            while (!closed.get()) {
                wake.acquire();
                wake.drainPermits();
                flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    boolean isClosed() {
        return closed.get();
    }

    /** Stops the writer and closes the transport; frames still queued are dropped. */
    void close() {
        if (closed.compareAndSet(false, true)) {
            wake.release();
            try {
                transport.close();
            } catch (IOException ignored) {
                // Nothing to tell a client that is going away.
            }
        }
    }
}
