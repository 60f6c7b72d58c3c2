package io.xenops.xenstore.client;

import io.xenops.xenstore.error.ConnectionClosedException;
import io.xenops.xenstore.error.ProtocolException;
import io.xenops.xenstore.error.XenStoreException;
import io.xenops.xenstore.transport.Transport;
import io.xenops.xenstore.wire.Frame;
import io.xenops.xenstore.wire.FrameDecoder;
import io.xenops.xenstore.wire.MessageType;
import io.xenops.xenstore.wire.ReplyDecoder;
import io.xenops.xenstore.wire.Request;
import io.xenops.xenstore.wire.RequestEncoder;
import io.xenops.xenstore.wire.WatchEvent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One pipelined connection: any number of requests in flight, replies matched by req_id in whatever
 * order they come, watch events routed by token. A single reader thread decodes the stream; writers
 * combine: whoever holds the write lock sends everything queued, so many concurrent requests leave
 * in few system calls.
 *
 * <p>Futures are completed on the reader thread. Continuations must not block on this connection
 * (the blocking API refuses to run there) — use the async methods or {@code ...Async} stages.
 */
public final class XenStoreConnection implements AutoCloseable {

    private final Transport transport;
    private final RequestEncoder encoder;
    private final ReplyDecoder replies = new ReplyDecoder();
    private final FrameDecoder frames;
    private final Map<Integer, Pending<?>> pending = new ConcurrentHashMap<>();
    private final Map<String, Consumer<WatchEvent>> watchSinks = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<ByteBuffer> outbox = new ConcurrentLinkedQueue<>();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final AtomicInteger nextReqId = new AtomicInteger(1);
    private final AtomicReference<XenStoreException> failure = new AtomicReference<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final AtomicLong unmatchedReplies = new AtomicLong();
    private final AtomicLong droppedEvents = new AtomicLong();
    private final ClientOptions options;
    private final Thread reader;

    private record Pending<R>(Request<R> request, int txId, CompletableFuture<R> future) {
    }

    /** Takes ownership of the transport and starts the reader thread. */
    public XenStoreConnection(Transport transport, ClientOptions options) {
        this.transport = transport;
        this.options = options;
        this.encoder = new RequestEncoder(options.limits());
        this.frames = FrameDecoder.forReplies(options.limits());
        this.reader = options.readerThreads().newThread(this::readLoop);
        this.reader.start();
    }

    public ClientOptions options() {
        return options;
    }

    /**
     * Sends a request (tx_id 0 outside a transaction) and returns its reply. Fails at once, without
     * sending, when the connection is closed or the request is over the payload limit.
     */
    public <R> CompletableFuture<R> send(Request<R> request, int txId) {
        CompletableFuture<R> f = new CompletableFuture<>();
        XenStoreException dead = failure.get();
        if (dead != null) {
            return CompletableFuture.failedFuture(dead);
        }
        int id = allocateId(new Pending<>(request, txId, f));
        byte[] bytes;
        try {
            bytes = encoder.encode(request, id, txId);
        } catch (RuntimeException e) {
            pending.remove(id);
            return CompletableFuture.failedFuture(e);
        }
        // A close racing with this send may already have failed every pending request; make sure
        // ours is failed too rather than left hanging.
        dead = failure.get();
        if (dead != null && pending.remove(id) != null) {
            f.completeExceptionally(dead);
            return f;
        }
        outbox.add(ByteBuffer.wrap(bytes));
        flush();
        return f;
    }

    private int allocateId(Pending<?> p) {
        while (true) {
            int id = nextReqId.getAndIncrement();
            if (id != 0 && pending.putIfAbsent(id, p) == null) {
                return id;
            }
        }
    }

    /** Writes queued frames; the thread holding the lock drains for everybody (write combining). */
    private void flush() {
        while (!outbox.isEmpty()) {
            if (!writeLock.tryLock()) {
                return;
            }
            try {
                List<ByteBuffer> batch = new ArrayList<>();
                ByteBuffer b;
                while (batch.size() < 1024 && (b = outbox.poll()) != null) {
                    batch.add(b);
                }
                if (!batch.isEmpty() && failure.get() == null) {
                    transport.write(batch);
                }
            } catch (IOException | RuntimeException e) {
                fail(new ConnectionClosedException("write to " + transport.describe() + " failed: " + e, e));
            } finally {
                writeLock.unlock();
            }
        }
    }

    /** Routes WATCH_EVENTs carrying {@code token} to {@code sink} (called on the reader thread). */
    void addWatchSink(String token, Consumer<WatchEvent> sink) {
        if (watchSinks.putIfAbsent(token, sink) != null) {
            throw new IllegalStateException("watch token already in use: " + token);
        }
    }

    void removeWatchSink(String token) {
        watchSinks.remove(token);
    }

    private void readLoop() {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        try {
            while (true) {
                buf.clear();
                int n = transport.read(buf);
                if (n < 0) {
                    String how = frames.idle() ? "closed by the server" : "closed by the server in the middle of a message";
                    fail(new ConnectionClosedException("connection to " + transport.describe() + " " + how));
                    return;
                }
                buf.flip();
                Frame f;
                while ((f = frames.next(buf)) != null) {
                    dispatch(f);
                }
            }
        } catch (ProtocolException e) {
            fail(new ConnectionClosedException("protocol error on " + transport.describe() + ": " + e.getMessage(), e));
        } catch (IOException | RuntimeException e) {
            fail(new ConnectionClosedException("connection to " + transport.describe() + " broken: " + e, e));
        }
    }

    private void dispatch(Frame f) {
        if (f.is(MessageType.WATCH_EVENT)) {
            WatchEvent e = replies.watchEvent(f);
            Consumer<WatchEvent> sink = watchSinks.get(e.token());
            if (sink != null) {
                sink.accept(e);
            } else {
                // Events can legitimately arrive after an UNWATCH was sent; they are dropped.
                droppedEvents.incrementAndGet();
            }
            return;
        }
        Pending<?> p = pending.remove(f.reqId());
        if (p == null) {
            unmatchedReplies.incrementAndGet();
            return;
        }
        complete(p, f);
    }

    private <R> void complete(Pending<R> p, Frame f) {
        R value;
        try {
            value = replies.decode(p.request(), f, p.txId());
        } catch (RuntimeException e) {
            p.future().completeExceptionally(e);
            return;
        }
        p.future().complete(value);
    }

    private void fail(XenStoreException cause) {
        fail(cause, false);
    }

    private void fail(XenStoreException cause, boolean byUs) {
        if (!failure.compareAndSet(null, cause)) {
            return;
        }
        try {
            transport.close();
        } catch (IOException ignored) {
            // Already failing; the first cause is what the caller needs.
        }
        for (Integer id : List.copyOf(pending.keySet())) {
            Pending<?> p = pending.remove(id);
            if (p != null) {
                p.future().completeExceptionally(cause);
            }
        }
        outbox.clear();
        if (byUs) {
            closed.complete(null);
        } else {
            closed.completeExceptionally(cause);
        }
    }

    /** Completes normally after {@link #close()}, exceptionally when the connection broke. */
    public CompletableFuture<Void> closedFuture() {
        return closed;
    }

    public boolean isOpen() {
        return failure.get() == null;
    }

    /** Requests sent and not answered yet. */
    public int pendingCount() {
        return pending.size();
    }

    /** Replies whose req_id matched no outstanding request (ignored). */
    public long unmatchedReplies() {
        return unmatchedReplies.get();
    }

    /** Watch events whose token matched no watch (ignored; normal just after an unwatch). */
    public long droppedEvents() {
        return droppedEvents.get();
    }

    /** True on the thread that completes futures, where blocking would deadlock. */
    public boolean isReaderThread() {
        return Thread.currentThread() == reader;
    }

    public String describe() {
        return transport.describe();
    }

    /** Fails every pending request with {@link ConnectionClosedException} and closes the transport. */
    @Override
    public void close() {
        fail(new ConnectionClosedException("connection to " + transport.describe() + " closed"), true);
    }
}
