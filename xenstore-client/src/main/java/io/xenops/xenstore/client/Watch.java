package io.xenops.xenstore.client;

import io.xenops.xenstore.error.ConnectionClosedException;
import io.xenops.xenstore.error.RequestTimeoutException;
import io.xenops.xenstore.error.XenStoreException;
import io.xenops.xenstore.wire.WatchEvent;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A registered watch. Events either queue here, to be taken with {@link #next()} / {@link #poll},
 * or go to the listener given at registration, run on the client's event executor one at a time and
 * in arrival order. Closing sends UNWATCH. The first event (path equal to the watched path) arrives
 * right after registration, as xenstored fires every new watch once.
 */
public final class Watch implements AutoCloseable {

    private final String path;
    private final String token;
    private final Consumer<WatchEvent> listener;
    private final Executor executor;
    private final Supplier<CompletableFuture<Void>> unwatch;
    private final Object lock = new Object();
    private final ArrayDeque<WatchEvent> events = new ArrayDeque<>();
    private final ArrayDeque<CompletableFuture<WatchEvent>> waiters = new ArrayDeque<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private boolean draining;
    private XenStoreException failure;

    Watch(String path, String token, Consumer<WatchEvent> listener, Executor executor,
          Supplier<CompletableFuture<Void>> unwatch) {
        this.path = path;
        this.token = token;
        this.listener = listener;
        this.executor = executor;
        this.unwatch = unwatch;
    }

    public String path() {
        return path;
    }

    public String token() {
        return token;
    }

    /** Called on the reader thread: must not block. */
    void deliver(WatchEvent e) {
        CompletableFuture<WatchEvent> waiter;
        boolean schedule = false;
        synchronized (lock) {
            if (failure != null) {
                return;
            }
            waiter = listener == null ? waiters.pollFirst() : null;
            if (waiter == null) {
                events.addLast(e);
                if (listener != null && !draining) {
                    draining = true;
                    schedule = true;
                }
            }
        }
        if (waiter != null) {
            // Completed off the reader thread so that whoever waits may issue blocking calls.
            executor.execute(() -> waiter.complete(e));
        }
        if (schedule) {
            executor.execute(this::drain);
        }
    }

    private void drain() {
        while (true) {
            WatchEvent e;
            synchronized (lock) {
                e = events.pollFirst();
                if (e == null || failure != null) {
                    draining = false;
                    return;
                }
            }
            try {
                listener.accept(e);
            } catch (RuntimeException ignored) {
                // A failing listener must not stop later events; it owns its error handling.
            }
        }
    }

    /** Fails waiting futures; further events are ignored. */
    void fail(XenStoreException cause) {
        synchronized (lock) {
            if (failure != null) {
                return;
            }
            failure = cause;
            CompletableFuture<WatchEvent> w;
            while ((w = waiters.pollFirst()) != null) {
                w.completeExceptionally(cause);
            }
        }
    }

    /** The next event not yet taken. Only for watches without a listener. */
    public CompletableFuture<WatchEvent> next() {
        if (listener != null) {
            throw new IllegalStateException("this watch delivers to its listener");
        }
        synchronized (lock) {
            WatchEvent e = events.pollFirst();
            if (e != null) {
                return CompletableFuture.completedFuture(e);
            }
            if (failure != null) {
                return CompletableFuture.failedFuture(failure);
            }
            CompletableFuture<WatchEvent> f = new CompletableFuture<>();
            waiters.addLast(f);
            return f;
        }
    }

    /** Waits up to {@code timeout} for the next event; null when none came. */
    public WatchEvent poll(Duration timeout) throws InterruptedException {
        CompletableFuture<WatchEvent> f = next();
        try {
            return f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            synchronized (lock) {
                if (waiters.remove(f)) {
                    return null;
                }
            }
            // An event was handed to this waiter just as the wait ended: it is ours, take it.
            try {
                return f.get();
            } catch (ExecutionException x) {
                return null;
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof XenStoreException x) {
                throw x;
            }
            throw new ConnectionClosedException("watch failed", e.getCause());
        }
    }

    /** Like {@link #poll} but throws when nothing came in time. */
    public WatchEvent take(Duration timeout) throws InterruptedException {
        WatchEvent e = poll(timeout);
        if (e == null) {
            throw new RequestTimeoutException("no event on " + path + " within " + timeout);
        }
        return e;
    }

    /** Events queued and not taken yet. */
    public int queued() {
        synchronized (lock) {
            return events.size();
        }
    }

    /** Sends UNWATCH (once); completes when the server acknowledged it. */
    public CompletableFuture<Void> unwatch() {
        if (!closed.compareAndSet(false, true)) {
            return CompletableFuture.completedFuture(null);
        }
        fail(new ConnectionClosedException("watch on " + path + " closed"));
        return unwatch.get();
    }

    /** Unwatches without waiting for the acknowledgement. */
    @Override
    public void close() {
        unwatch().exceptionally(e -> null);
    }
}
