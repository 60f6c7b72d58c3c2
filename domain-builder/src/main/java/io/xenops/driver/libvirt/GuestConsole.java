package io.xenops.driver.libvirt;

import io.xenops.guest.GuestProtocol;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A guest's serial console, through the unix socket QEMU listens on (libvirt's
 * {@code <serial type='unix'><source mode='bind'>}). Bytes flow straight between QEMU and the driver:
 * libvirtd is not on this path, so the line protocol costs what it costs with the QEMU driver.
 *
 * <p>A virtual thread reads and splits lines; writes are queued on one more virtual thread so callers
 * never block (a paused guest stops draining its UART and the socket buffer can fill) and lines reach
 * the guest in the order they were sent.
 */
final class GuestConsole implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GuestConsole.class.getName());

    /** Receives the console's lines and its end. Called on the reader thread. */
    interface Sink {
        void onLine(String line, long nanoTime);

        /** EOF or a broken socket: QEMU went away, or someone closed us. */
        void onClosed();
    }

    private final SocketChannel channel;
    private final Path path;
    private final String name;
    private final ConsoleTail tail;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final ExecutorService writer;

    private GuestConsole(SocketChannel channel, Path path, String name, int tailBytes) {
        this.channel = channel;
        this.path = path;
        this.name = name;
        this.tail = new ConsoleTail(tailBytes);
        this.writer = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("libvirt-console-writer-" + name).factory());
    }

    /** Connects; QEMU accepts one client at a time, so a second driver on the same domain is refused. */
    static GuestConsole connect(Path socket, String name, int tailBytes) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return new GuestConsole(ch, socket, name, tailBytes);
    }

    void start(Sink sink) {
        Thread.ofVirtual().name("libvirt-console-reader-" + name).start(() -> read(sink));
    }

    private void read(Sink sink) {
        LineAssembler lines = new LineAssembler(GuestProtocol.MAX_LINE);
        ByteBuffer buf = ByteBuffer.allocate(4096);
        try {
            while (true) {
                buf.clear();
                int n = channel.read(buf);
                if (n < 0) break;
                long now = System.nanoTime(); // when the bytes arrived, not when a listener got round to them
                tail.append(buf.array(), 0, n);
                lines.feed(buf.array(), 0, n, line -> {
                    try {
                        sink.onLine(line, now);
                    } catch (RuntimeException e) {
                        LOG.log(Level.WARNING, "console listener failed for " + name, e);
                    }
                });
            }
        } catch (ClosedChannelException e) {
            // close() from another thread
        } catch (IOException e) {
            if (!closed.get()) LOG.log(Level.DEBUG, "console of " + name + " broke: " + e);
        }
        sink.onClosed();
    }

    /** One queued line; a named type so that close() can fail the lines it never wrote. */
    private final class Write implements Runnable {
        final byte[] bytes;
        final CompletableFuture<Void> done = new CompletableFuture<>();

        Write(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public void run() {
            try {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) channel.write(b);
                done.complete(null);
            } catch (IOException e) {
                done.completeExceptionally(e);
            }
        }
    }

    /** Queues one line for the guest; completes once it is written to the socket. */
    CompletableFuture<Void> send(String line) {
        Write w = new Write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        try {
            writer.execute(w);
        } catch (RejectedExecutionException e) {
            w.done.completeExceptionally(new ClosedChannelException());
        }
        return w.done;
    }

    Path path() {
        return path;
    }

    String tail() {
        return tail.toString();
    }

    boolean isOpen() {
        return !closed.get() && channel.isOpen();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        for (Runnable r : writer.shutdownNow()) {
            if (r instanceof Write w) w.done.completeExceptionally(new ClosedChannelException());
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // abandoning the socket either way
        }
    }
}
