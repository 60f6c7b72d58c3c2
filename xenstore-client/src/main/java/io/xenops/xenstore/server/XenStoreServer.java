package io.xenops.xenstore.server;

import io.xenops.xenstore.error.ProtocolException;
import io.xenops.xenstore.transport.InMemoryTransport;
import io.xenops.xenstore.transport.Transport;
import io.xenops.xenstore.transport.UnixSocketTransport;
import io.xenops.xenstore.wire.Frame;
import io.xenops.xenstore.wire.FrameDecoder;

import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An in-process XenStore server with the semantics of docs/misc/xenstore.txt, for tests and for
 * running the daemon where there is no Xen. Clients connect in memory ({@link #connect()},
 * {@link #connectAsDomain(int)}) or over a unix socket ({@link #listen(Path)}), and speak the real
 * wire protocol either way.
 *
 * <p>Socket and {@link #connect()} clients are dom0 (privileged), as on a real host.
 * {@link #connectAsDomain(int)} stands for a guest's ring: permissions and quotas apply, and
 * relative paths resolve under {@code /local/domain/<domid>}.
 */
public final class XenStoreServer implements AutoCloseable {

    private final ServerOptions options;
    private final ReentrantLock lock = new ReentrantLock();
    private final List<ServerConnection> connections = new CopyOnWriteArrayList<>();
    private final List<Closeable> listeners = new CopyOnWriteArrayList<>();
    private final RequestProcessor processor;
    private final AtomicInteger connectionIds = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();

    public XenStoreServer(ServerOptions options) {
        this.options = options;
        this.processor = new RequestProcessor(options.limits(), new Quotas(options.quotas()), connections);
    }

    public XenStoreServer() {
        this(ServerOptions.defaults());
    }

    /** A privileged (dom0) in-memory connection; the returned end belongs to the client. */
    public Transport connect() {
        return attach(0, true);
    }

    /** An unprivileged connection as domain {@code domid}, as through its XenStore ring. */
    public Transport connectAsDomain(int domid) {
        if (domid <= 0 || domid > 0xffff) {
            throw new IllegalArgumentException("not a guest domid: " + domid);
        }
        return attach(domid, false);
    }

    private Transport attach(int domid, boolean privileged) {
        ensureOpen();
        InMemoryTransport[] pair = InMemoryTransport.pair("xenstore-" + connectionIds.get());
        serve(pair[1], domid, privileged);
        return pair[0];
    }

    /**
     * Accepts dom0 clients on a unix socket at {@code socket} (replacing a stale socket file).
     * Closing the returned handle stops accepting and removes the file; connected clients stay.
     */
    public Closeable listen(Path socket) throws IOException {
        ensureOpen();
        Files.deleteIfExists(socket);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Closeable handle = () -> {
            server.close();
            Files.deleteIfExists(socket);
        };
        listeners.add(handle);
        options.threads().newThread(() -> {
            try {
                while (true) {
                    SocketChannel ch = server.accept();
                    serve(UnixSocketTransport.of(ch, "unix:" + socket + "#" + connectionIds.get()), 0, true);
                }
            } catch (IOException e) {
                // Closed: stop accepting.
            }
        }).start();
        return handle;
    }

    private void serve(Transport transport, int domid, boolean privileged) {
        ServerConnection conn = new ServerConnection(connectionIds.incrementAndGet(), domid, privileged, transport);
        connections.add(conn);
        options.threads().newThread(conn::writeLoop).start();
        options.threads().newThread(() -> readLoop(conn)).start();
    }

    private void readLoop(ServerConnection conn) {
        FrameDecoder decoder = FrameDecoder.forRequests(options.limits());
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        try {
            while (!conn.isClosed()) {
                buf.clear();
                if (conn.transport.read(buf) < 0) {
                    break;
                }
                buf.flip();
                List<Frame> batch = new ArrayList<>();
                Frame f;
                while ((f = decoder.next(buf)) != null) {
                    batch.add(f);
                }
                if (batch.isEmpty()) {
                    continue;
                }
                // One lock acquisition per read keeps pipelined bursts cheap; the replies are
                // written by this thread once the lock is released.
                conn.beginBatch();
                lock.lock();
                try {
                    for (Frame frame : batch) {
                        processor.handle(conn, frame);
                    }
                } finally {
                    lock.unlock();
                    conn.endBatch();
                }
            }
        } catch (ProtocolException e) {
            // A frame over the payload limit: xenstored kills the connection, and so do we.
        } catch (IOException | RuntimeException e) {
            // The client went away.
        } finally {
            lock.lock();
            try {
                processor.drop(conn);
            } finally {
                lock.unlock();
            }
            conn.close();
        }
    }

    /** Introduces a domain as the toolstack would (fires @introduceDomain). */
    public void introduceDomain(int domid) {
        locked(() -> processor.introduce(domid));
    }

    /** Releases a domain as on its destruction (fires @releaseDomain, drops its connections). */
    public void releaseDomain(int domid) {
        locked(() -> processor.release(domid));
    }

    /** Open client connections. */
    public int connectionCount() {
        return connections.size();
    }

    /** Nodes in the committed tree. */
    public int nodeCount() {
        lock.lock();
        try {
            return processor.nodeCount();
        } finally {
            lock.unlock();
        }
    }

    private void locked(Runnable r) {
        lock.lock();
        try {
            r.run();
        } finally {
            lock.unlock();
        }
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("server closed");
        }
    }

    /** Stops listening and closes every connection (their clients see the connection end). */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (Closeable l : listeners) {
            try {
                l.close();
            } catch (IOException ignored) {
                // Best effort: the socket file may already be gone.
            }
        }
        for (ServerConnection c : connections) {
            c.close();
        }
    }
}
