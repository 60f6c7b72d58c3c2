package io.xenops.qmp;

import java.io.IOException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A QMP connection over a unix domain socket: one virtual thread reads and decodes, any thread writes.
 * Knows framing and sockets, nothing about commands or ids (that is {@link QmpClient}).
 */
public final class QmpTransport implements AutoCloseable {

    /** Where the reader thread delivers what it decoded. Called on the reader thread, in order. */
    public interface Receiver {
        void onMessage(QmpMessage message);

        /**
         * The connection ended without {@link #close()} having been called first.
         *
         * @param cause null for an orderly EOF (QEMU exited or closed the monitor), else what broke it
         */
        void onDisconnect(Throwable cause);
    }

    private static final int READ_BUFFER = 16 * 1024;

    private final SocketChannel channel;
    private final QmpDecoder decoder;
    private final String name;
    // A ReentrantLock rather than synchronized: writers may be virtual threads, and a lock does not pin them.
    private final ReentrantLock writeLock = new ReentrantLock();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean started = new AtomicBoolean();

    public QmpTransport(SocketChannel channel, QmpDecoder decoder, String name) {
        this.channel = channel;
        this.decoder = decoder;
        this.name = name;
    }

    /** Connects to a QMP server socket. Fails at once (no retry) when nobody listens there. */
    public static SocketChannel open(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Starts the reader thread. Call once. */
    public void start(Receiver receiver) {
        if (!started.compareAndSet(false, true)) throw new IllegalStateException("already started");
        Thread.ofVirtual().name("qmp-reader-" + name).start(() -> readLoop(receiver));
    }

    private void readLoop(Receiver receiver) {
        ByteBuffer buf = ByteBuffer.allocate(READ_BUFFER);
        Throwable cause = null;
        try {
            while (true) {
                int n = channel.read(buf);
                if (n < 0) break;
                buf.flip();
                decoder.decode(buf, receiver::onMessage);
                buf.clear();
            }
        } catch (ClosedChannelException e) {
            // Includes AsynchronousCloseException: close() from another thread is not a failure.
            if (!closed.get()) cause = e;
        } catch (SocketException e) {
            // QEMU closing the monitor with our bytes still unread in its buffer (e.g. right after
            // "quit") shows up as a reset rather than EOF; for us both mean the peer is gone.
            if (!isReset(e)) cause = e;
        } catch (IOException | RuntimeException e) {
            cause = e;
        }
        // Only report disconnects we did not cause: close() is the caller's own decision.
        if (closed.compareAndSet(false, true)) {
            closeQuietly();
            receiver.onDisconnect(cause);
        }
    }

    private static boolean isReset(SocketException e) {
        String m = e.getMessage();
        return m != null && m.toLowerCase(java.util.Locale.ROOT).contains("connection reset");
    }

    /** Writes all of {@code bytes}; concurrent writers never interleave. */
    public void write(byte[] bytes) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        writeLock.lock();
        try {
            while (buf.hasRemaining()) channel.write(buf);
        } finally {
            writeLock.unlock();
        }
    }

    public boolean isOpen() {
        return !closed.get();
    }

    /** Closes the socket. The receiver is not told: the caller knows. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) closeQuietly();
    }

    private void closeQuietly() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a socket we are abandoning: nothing useful to do with the error
        }
    }
}
