package io.xenops.daemon.log;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

/**
 * Formats on the caller's thread but writes on a thread of its own, so logging a request never blocks the
 * event loop on a slow terminal or pipe. When the queue is full, records are dropped and counted rather
 * than stalling the daemon.
 */
public final class AsyncHandler extends Handler {
    private final BlockingQueue<String> queue = new ArrayBlockingQueue<>(8192);
    private final AtomicLong dropped = new AtomicLong();
    private final Thread writer;

    public AsyncHandler(OutputStream out, Formatter formatter) {
        setFormatter(formatter);
        PrintStream ps = new PrintStream(out, false, StandardCharsets.UTF_8);
        writer = Thread.ofPlatform().daemon().name("log-writer").start(() -> {
            try {
                while (true) {
                    String line = queue.take();
                    ps.print(line);
                    long d = dropped.getAndSet(0);
                    if (d > 0) ps.println("log: " + d + " records dropped (queue full)");
                    if (queue.isEmpty()) ps.flush();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    @Override
    public void publish(LogRecord record) {
        if (!isLoggable(record)) return;
        if (!queue.offer(getFormatter().format(record))) dropped.incrementAndGet();
    }

    @Override
    public void flush() {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (!queue.isEmpty() && System.nanoTime() < deadline) Thread.onSpinWait();
    }

    @Override
    public void close() { flush(); }
}
