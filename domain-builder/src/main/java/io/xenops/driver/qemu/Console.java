package io.xenops.driver.qemu;

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
 * A domain's serial console, reached through QEMU's socket chardev: a virtual thread reads and splits
 * lines into a bounded tail; writes go through a single writer thread so that callers never block
 * (a paused guest stops draining its UART, and the socket would eventually fill).
 */
final class Console implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Console.class.getName());

    /** Receives each complete line with the {@link System#nanoTime()} of the read that completed it. */
    interface LineListener {
        void onLine(String line, long nanoTime);
    }

    private final SocketChannel channel;
    private final String name;
    private final TailBuffer tail;
    private final LineSplitter splitter;
    private final AtomicBoolean closed = new AtomicBoolean();
    // One virtual thread, in order: commands must reach the guest in the order they were sent.
    private final ExecutorService writer;

    Console(SocketChannel channel, String name, int tailBytes, int maxLine) {
        this.channel = channel;
        this.name = name;
        this.tail = new TailBuffer(tailBytes);
        this.splitter = new LineSplitter(maxLine);
        this.writer = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("console-writer-" + name).factory());
    }

    static SocketChannel open(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Seeds the tail with output from before this connection (the log file after a daemon restart). */
    void seed(byte[] earlier) {
        tail.append(earlier, 0, earlier.length);
    }

    /** Starts the reader; {@code onEof} runs once when the socket ends (QEMU exited) or breaks. */
    void start(LineListener listener, Runnable onEof) {
        Thread.ofVirtual().name("console-reader-" + name).start(() -> {
            try {
                readLoop(listener);
            } finally {
                onEof.run();
            }
        });
    }

    private void readLoop(LineListener listener) {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        try {
            while (true) {
                buf.clear();
                int n = channel.read(buf);
                if (n < 0) break;
                long now = System.nanoTime();
                tail.append(buf.array(), 0, n);
                splitter.feed(buf.array(), 0, n, line -> {
                    try {
                        listener.onLine(line, now);
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
        // EOF means QEMU went away; the QMP connection and the process tell the driver that, with reasons.
    }

    /** One queued line; a named type so that close() can fail the ones never written. */
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

    /** Queues one line for the guest; completes when it has been written to the socket. */
    CompletableFuture<Void> send(String line) {
        Write w = new Write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        try {
            writer.execute(w);
        } catch (RejectedExecutionException e) {
            w.done.completeExceptionally(new ClosedChannelException());
        }
        return w.done;
    }

    String tail() {
        return tail.toString();
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
