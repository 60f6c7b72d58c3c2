package io.xenops.xenstore.server;

import io.xenops.xenstore.transport.Transport;
import io.xenops.xenstore.wire.Frame;
import io.xenops.xenstore.wire.FrameEncoder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One client of the in-process server: who it is (domid, privileged or not), its transactions, and
 * a queue of frames to send. Replies and watch events are queued under the server lock and written
 * by this connection's writer thread, so a client that stops reading blocks only itself.
 */
final class ServerConnection {

    /** Beyond this many queued bytes the client is considered dead and dropped (xenstored caps it too). */
    private static final long MAX_QUEUED_BYTES = 64L << 20;

    final int id;
    final int domid;
    final boolean privileged;
    final Transport transport;
    final Map<Integer, TransactionState> transactions = new HashMap<>();
    private final LinkedBlockingQueue<ByteBuffer> outbound = new LinkedBlockingQueue<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private long queuedBytes;

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

    void send(Frame f) {
        if (closed.get()) {
            return;
        }
        byte[] bytes = FrameEncoder.encodeUnchecked(f);
        synchronized (this) {
            queuedBytes += bytes.length;
            if (queuedBytes > MAX_QUEUED_BYTES) {
                close();
                return;
            }
        }
        outbound.add(ByteBuffer.wrap(bytes));
    }

    /** The writer thread's loop: drains the queue in batches until closed. */
    void writeLoop() {
        List<ByteBuffer> batch = new ArrayList<>();
        try {
            while (!closed.get()) {
                ByteBuffer first = outbound.take();
                if (first == POISON) {
                    return;
                }
                batch.clear();
                batch.add(first);
                outbound.drainTo(batch, 1023);
                boolean stop = batch.remove(POISON);
                long n = 0;
                for (ByteBuffer b : batch) {
                    n += b.remaining();
                }
                transport.write(batch);
                synchronized (this) {
                    queuedBytes -= n;
                }
                if (stop) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            close();
        }
    }

    private static final ByteBuffer POISON = ByteBuffer.allocate(0);

    boolean isClosed() {
        return closed.get();
    }

    /** Stops the writer after what is already queued and closes the transport. */
    void close() {
        if (closed.compareAndSet(false, true)) {
            outbound.add(POISON);
            try {
                transport.close();
            } catch (IOException ignored) {
                // Nothing to tell a client that is going away.
            }
        }
    }
}
