package io.xenops.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A QMP session: greeting, {@code qmp_capabilities}, then any number of pipelined commands, each
 * answered through its own future, matched by id. Events go to a {@link QmpListener}.
 *
 * <p>Futures complete on the reader thread. Dependent stages that are not {@code *Async} run there too,
 * so they must be short and must not wait on another reply from this client.
 *
 * <p>When the connection closes, every unanswered command fails with {@link QmpClosedException}, and
 * unless {@link #close()} caused it, the listener's {@link QmpListener#onDisconnect} is called once.
 */
public final class QmpClient implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(QmpClient.class.getName());

    private record Pending(String command, CompletableFuture<JsonNode> future) {}

    private final QmpTransport transport;
    private final QmpEncoder encoder;
    private final QmpListener listener;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextId = new AtomicLong(1);
    private final CompletableFuture<QmpClient> ready = new CompletableFuture<>();
    private volatile boolean closed;
    private volatile QmpMessage.Greeting greeting;

    private QmpClient(QmpTransport transport, QmpEncoder encoder, QmpListener listener) {
        this.transport = transport;
        this.encoder = encoder;
        this.listener = listener;
    }

    /**
     * Connects to {@code socket}, waits for the greeting and negotiates capabilities. The connect itself
     * is immediate (unix socket); the handshake is bounded by {@code timeout}, after which the socket is
     * closed and the future fails with a {@link TimeoutException}.
     */
    public static CompletableFuture<QmpClient> connect(Path socket, ObjectMapper mapper, QmpListener listener,
                                                       Duration timeout) {
        SocketChannel channel;
        try {
            channel = QmpTransport.open(socket);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        return start(channel, mapper, listener, timeout, socket.getFileName().toString());
    }

    /** Runs the handshake on an already connected channel (tests, or sockets passed in by others). */
    public static CompletableFuture<QmpClient> start(SocketChannel channel, ObjectMapper mapper, QmpListener listener,
                                                     Duration timeout, String name) {
        QmpTransport transport = new QmpTransport(channel, new QmpDecoder(mapper), name);
        QmpClient client = new QmpClient(transport, new QmpEncoder(mapper), listener);
        transport.start(client.new Receiver());
        return client.ready
                .orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS)
                .whenComplete((c, e) -> {
                    if (e != null) client.close();
                });
    }

    /** Runs a command without arguments. */
    public CompletableFuture<JsonNode> execute(String command) {
        return execute(command, null);
    }

    /**
     * Sends a command and returns its {@code return} value. Fails with {@link QmpCommandException} when
     * QEMU answers with an error, {@link QmpClosedException} when the connection ends first.
     */
    public CompletableFuture<JsonNode> execute(String command, JsonNode arguments) {
        if (closed) return CompletableFuture.failedFuture(new QmpClosedException("QMP connection is closed", null));
        String id = Long.toString(nextId.getAndIncrement());
        byte[] bytes = encoder.encode(command, arguments, id);
        CompletableFuture<JsonNode> future = new CompletableFuture<>();
        pending.put(id, new Pending(command, future));
        // Re-check after registering: a close racing with us either saw our entry or we see its flag.
        if (closed) {
            failPending(null);
            return future;
        }
        try {
            transport.write(bytes);
        } catch (IOException e) {
            pending.remove(id);
            future.completeExceptionally(new QmpClosedException("cannot send " + command, e));
        }
        return future;
    }

    /** The greeting QEMU sent; null until the handshake has seen it. */
    public QmpMessage.Greeting greeting() {
        return greeting;
    }

    public boolean isOpen() {
        return !closed;
    }

    /** Number of commands sent and not yet answered. */
    public int pendingCount() {
        return pending.size();
    }

    /** Closes the connection and fails unanswered commands. Does not notify the listener. */
    @Override
    public void close() {
        closed = true;
        transport.close();
        failPending(null);
        ready.completeExceptionally(new QmpClosedException("QMP client closed during handshake", null));
    }

    private void failPending(Throwable cause) {
        for (String id : pending.keySet()) {
            Pending p = pending.remove(id);
            if (p != null) {
                p.future.completeExceptionally(new QmpClosedException(
                        "QMP connection closed before " + p.command + " was answered", cause));
            }
        }
    }

    private final class Receiver implements QmpTransport.Receiver {
        @Override
        public void onMessage(QmpMessage message) {
            switch (message) {
                case QmpMessage.Greeting g -> onGreeting(g);
                case QmpMessage.Return r -> complete(r.id(), p -> p.future.complete(r.value()));
                case QmpMessage.Error e -> complete(e.id(), p -> p.future.completeExceptionally(
                        new QmpCommandException(p.command, e.errorClass(), e.description())));
                case QmpMessage.Event ev -> {
                    try {
                        listener.onEvent(ev);
                    } catch (RuntimeException ex) {
                        // A listener bug must not kill the reader: the next reply would never arrive.
                        LOG.log(Level.WARNING, "QMP event listener failed on " + ev.name(), ex);
                    }
                }
            }
        }

        private void onGreeting(QmpMessage.Greeting g) {
            if (greeting != null) {
                LOG.log(Level.WARNING, "ignoring a second QMP greeting");
                return;
            }
            greeting = g;
            execute("qmp_capabilities").whenComplete((v, e) -> {
                if (e != null) ready.completeExceptionally(e);
                else ready.complete(QmpClient.this);
            });
        }

        private void complete(String id, java.util.function.Consumer<Pending> action) {
            Pending p = id == null ? null : pending.remove(id);
            if (p == null) {
                // Not ours (no id, or already failed by a close race): nothing waits for it.
                LOG.log(Level.DEBUG, "QMP reply with unknown id {0}", id);
                return;
            }
            action.accept(p);
        }

        @Override
        public void onDisconnect(Throwable cause) {
            closed = true;
            failPending(cause);
            ready.completeExceptionally(new QmpClosedException("QMP connection closed during handshake", cause));
            try {
                listener.onDisconnect(cause);
            } catch (RuntimeException ex) {
                LOG.log(Level.WARNING, "QMP disconnect listener failed", ex);
            }
        }
    }
}
