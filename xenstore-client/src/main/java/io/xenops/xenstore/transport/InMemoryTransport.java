package io.xenops.xenstore.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Two connected ends of an in-process byte stream, for tests and for the in-process server. Each
 * direction is a bounded buffer, so a reader that stops reading eventually blocks its writer, as a
 * socket would.
 */
public final class InMemoryTransport implements Transport {

    private static final int CAPACITY = 1 << 20;

    private final Pipe in;
    private final Pipe out;
    private final String description;

    private InMemoryTransport(Pipe in, Pipe out, String description) {
        this.in = in;
        this.out = out;
        this.description = description;
    }

    /** A connected pair: what one end writes the other reads. */
    public static InMemoryTransport[] pair(String name) {
        Pipe a = new Pipe();
        Pipe b = new Pipe();
        return new InMemoryTransport[] {
            new InMemoryTransport(a, b, "memory:" + name + "/client"),
            new InMemoryTransport(b, a, "memory:" + name + "/server")
        };
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return in.read(dst);
    }

    @Override
    public void write(List<ByteBuffer> frames) throws IOException {
        for (ByteBuffer f : frames) {
            out.write(f);
        }
    }

    @Override
    public void close() {
        in.close();
        out.close();
    }

    @Override
    public String describe() {
        return description;
    }

    /** One direction: a byte queue with blocking reads and writes, closed from either end. */
    private static final class Pipe {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition readable = lock.newCondition();
        private final Condition writable = lock.newCondition();
        private final ArrayDeque<ByteBuffer> chunks = new ArrayDeque<>();
        private int size;
        private boolean closed;

        int read(ByteBuffer dst) throws IOException {
            lock.lock();
            try {
                while (chunks.isEmpty() && !closed) {
                    readable.await();
                }
                if (chunks.isEmpty()) {
                    return -1;
                }
                int n = 0;
                while (dst.hasRemaining() && !chunks.isEmpty()) {
                    ByteBuffer c = chunks.peekFirst();
                    int k = Math.min(c.remaining(), dst.remaining());
                    ByteBuffer slice = c.slice(c.position(), k);
                    dst.put(slice);
                    c.position(c.position() + k);
                    n += k;
                    if (!c.hasRemaining()) {
                        chunks.pollFirst();
                    }
                }
                size -= n;
                writable.signalAll();
                return n;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted");
            } finally {
                lock.unlock();
            }
        }

        void write(ByteBuffer src) throws IOException {
            lock.lock();
            try {
                while (src.hasRemaining()) {
                    while (size >= CAPACITY && !closed) {
                        writable.await();
                    }
                    if (closed) {
                        throw new ClosedChannelException();
                    }
                    int k = Math.min(src.remaining(), CAPACITY - size);
                    byte[] copy = new byte[k];
                    src.get(copy);
                    chunks.addLast(ByteBuffer.wrap(copy));
                    size += k;
                    readable.signalAll();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted");
            } finally {
                lock.unlock();
            }
        }

        void close() {
            lock.lock();
            try {
                closed = true;
                readable.signalAll();
                writable.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }
}
