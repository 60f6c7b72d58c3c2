package io.xenops.xenstore.client;

import io.xenops.xenstore.error.ConnectionClosedException;
import io.xenops.xenstore.error.NoSuchTransactionException;
import io.xenops.xenstore.error.TransactionConflictException;
import io.xenops.xenstore.transport.Transport;
import io.xenops.xenstore.transport.Transports;
import io.xenops.xenstore.transport.UnixSocketTransport;
import io.xenops.xenstore.wire.Limits;
import io.xenops.xenstore.wire.Paths;
import io.xenops.xenstore.wire.Request;
import io.xenops.xenstore.wire.WatchEvent;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The XenStore client: node operations outside transactions, watches, transactions with retry,
 * wait-until, and the dom0 requests. Every method is asynchronous; {@link #blocking()} gives the
 * same operations as plain calls.
 *
 * <pre>{@code
 * try (XenStoreClient xs = XenStoreClient.connect(Path.of("/run/xenstored/socket"))) {
 *     xs.blocking().write("/local/domain/5/name", "vm5");
 *     String state = xs.waitUntil("/local/domain/5/device/vif/0/state", v -> v.equals(Optional.of("4")))
 *                      .orTimeout(10, TimeUnit.SECONDS).join().orElseThrow();
 * }
 * }</pre>
 */
public final class XenStoreClient implements XenStoreOperations, AutoCloseable {

    private final XenStoreConnection connection;
    private final ClientOptions options;
    private final Map<String, Watch> watches = new ConcurrentHashMap<>();
    private final java.util.Set<CompletableFuture<?>> waits = ConcurrentHashMap.newKeySet();
    private final AtomicLong tokens = new AtomicLong();
    private final String tokenPrefix;

    /** Uses an open connection; closing the client closes it. */
    public XenStoreClient(XenStoreConnection connection) {
        this.connection = connection;
        this.options = connection.options();
        // Distinct per client so that two clients sharing a xenbus device never share tokens.
        this.tokenPrefix = "xo" + Long.toHexString(System.identityHashCode(this)) + "-";
        connection.closedFuture().whenComplete((v, e) -> {
            ConnectionClosedException why = e instanceof ConnectionClosedException c ? c
                    : new ConnectionClosedException("connection closed", e);
            watches.values().forEach(w -> w.fail(why));
            watches.clear();
            waits.forEach(f -> f.completeExceptionally(why));
        });
    }

    /** A client over any transport, with default options. */
    public static XenStoreClient open(Transport transport) {
        return open(transport, ClientOptions.defaults());
    }

    public static XenStoreClient open(Transport transport, ClientOptions options) {
        return new XenStoreClient(new XenStoreConnection(transport, options));
    }

    /** Connects to xenstored's unix socket, e.g. {@code /run/xenstored/socket}. */
    public static XenStoreClient connect(Path socket) throws IOException {
        return open(UnixSocketTransport.connect(socket));
    }

    /** Connects the way libxenstore does: XENSTORED_PATH, the usual sockets, then /dev/xen/xenbus. */
    public static XenStoreClient openDefault() throws IOException {
        return open(Transports.openDefault(System.getenv()));
    }

    public XenStoreConnection connection() {
        return connection;
    }

    @Override
    public <R> CompletableFuture<R> request(Request<R> request) {
        return connection.send(request, 0);
    }

    @Override
    public Limits limits() {
        return options.limits();
    }

    /** The blocking convenience API, waiting at most the configured blocking timeout per call. */
    public BlockingXenStore blocking() {
        return new BlockingXenStore(this, connection, options.blockingTimeout());
    }

    public BlockingXenStore blocking(Duration timeout) {
        return new BlockingXenStore(this, connection, timeout);
    }

    // ---------------------------------------------------------------- watches

    /** Watches {@code path} (or a special path such as {@code @releaseDomain}); events queue on the Watch. */
    public CompletableFuture<Watch> watch(String path) {
        return watch(path, null);
    }

    /** Watches {@code path}, handing each event to {@code listener} on the event executor. */
    public CompletableFuture<Watch> watch(String path, Consumer<WatchEvent> listener) {
        try {
            Paths.checkWatchPath(path, limits());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        String token = tokenPrefix + tokens.incrementAndGet();
        Watch w = new Watch(path, token, listener, options.eventExecutor(), () -> unwatch(path, token));
        // Registered before WATCH is sent: the first event may overtake the acknowledgement.
        connection.addWatchSink(token, w::deliver);
        watches.put(token, w);
        return request(new Request.Watch(path, token)).handle((v, e) -> {
            if (e != null) {
                forget(token);
                Throwable c = XenStoreOperations.unwrap(e);
                w.fail(c instanceof io.xenops.xenstore.error.XenStoreException x ? x
                        : new ConnectionClosedException("watch failed", c));
                throw new java.util.concurrent.CompletionException(c);
            }
            return w;
        });
    }

    private CompletableFuture<Void> unwatch(String path, String token) {
        return request(new Request.Unwatch(path, token)).whenComplete((v, e) -> forget(token));
    }

    private void forget(String token) {
        watches.remove(token);
        connection.removeWatchSink(token);
    }

    /** Drops every watch and transaction of this connection on the server, and our watch handles. */
    public CompletableFuture<Void> resetWatches() {
        return request(new Request.ResetWatches()).thenRun(() -> {
            ConnectionClosedException why = new ConnectionClosedException("watches reset");
            for (String token : List.copyOf(watches.keySet())) {
                Watch w = watches.get(token);
                forget(token);
                if (w != null) {
                    w.fail(why);
                }
            }
        });
    }

    /**
     * Completes with the first {@code T} that {@code test} extracts from the value of {@code path}
     * (empty when the node is absent). Driven by a watch: the value is re-read on each event, never
     * polled. Never completes by itself if the condition never holds: add {@code orTimeout}; the
     * watch is removed however the future ends, cancellation included.
     */
    public <T> CompletableFuture<T> waitFor(String path, Function<Optional<String>, Optional<T>> test) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Consumer<WatchEvent> check = event -> readStringIfExists(path).whenComplete((value, err) -> {
            if (err != null) {
                result.completeExceptionally(XenStoreOperations.unwrap(err));
                return;
            }
            try {
                test.apply(value).ifPresent(result::complete);
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        watch(path, check).whenComplete((w, err) -> {
            if (err != null) {
                result.completeExceptionally(XenStoreOperations.unwrap(err));
            } else {
                result.whenComplete((v, e) -> w.close());
            }
        });
        // Kept in a set rather than hooked on closedFuture so that finished waits leave nothing behind.
        waits.add(result);
        result.whenComplete((v, e) -> waits.remove(result));
        if (!connection.isOpen()) {
            result.completeExceptionally(new ConnectionClosedException("connection closed"));
        }
        return result;
    }

    /** Completes with the value of {@code path} once {@code condition} holds for it. */
    public CompletableFuture<Optional<String>> waitUntil(String path, Predicate<Optional<String>> condition) {
        return waitFor(path, v -> condition.test(v) ? Optional.of(v) : Optional.empty());
    }

    public CompletableFuture<Optional<String>> waitUntil(String path, Predicate<Optional<String>> condition,
                                                         Duration timeout) {
        return waitUntil(path, condition).orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    // ---------------------------------------------------------------- transactions

    /** Starts a bare transaction; the caller must end it. Prefer {@link #transaction(Function)}. */
    public CompletableFuture<Transaction> startTransaction() {
        return request(new Request.TransactionStart()).thenApply(id -> new Transaction(connection, id, limits()));
    }

    /** Runs {@code body} in a transaction, retrying on conflict with the default policy. */
    public <T> CompletableFuture<T> transaction(Function<Transaction, ? extends CompletionStage<T>> body) {
        return transaction(RetryPolicy.defaults(), body);
    }

    /**
     * Runs {@code body} in a transaction and commits. When the commit (or any step) fails with EAGAIN
     * the whole body runs again in a new transaction, up to the policy's bound; the last conflict is
     * then reported. The same holds when the server no longer knows the transaction
     * ({@link NoSuchTransactionException}: ENOENT from C xenstored, EIO from oxenstored), since
     * nothing of it was committed. Any other failure discards the transaction and is reported as is. The body may
     * run several times, so it should have no effects outside XenStore.
     */
    public <T> CompletableFuture<T> transaction(RetryPolicy policy,
                                                Function<Transaction, ? extends CompletionStage<T>> body) {
        return attempt(policy, body, 1);
    }

    private <T> CompletableFuture<T> attempt(RetryPolicy policy,
                                             Function<Transaction, ? extends CompletionStage<T>> body, int n) {
        return startTransaction().thenCompose(tx -> {
            CompletableFuture<T> run;
            try {
                run = body.apply(tx).toCompletableFuture();
            } catch (RuntimeException e) {
                run = CompletableFuture.failedFuture(e);
            }
            return run.handle((value, err) -> {
                if (err != null) {
                    Throwable cause = XenStoreOperations.unwrap(err);
                    CompletableFuture<Void> discard = tx.ended() ? CompletableFuture.completedFuture(null) : tx.end(false);
                    // If the discard finds the transaction gone, the body's failure may only be an
                    // echo of that (C xenstored answers ENOENT to a READ in a lost transaction).
                    return discard.handle((x, discardErr) -> discardErr != null
                                    && XenStoreOperations.unwrap(discardErr) instanceof NoSuchTransactionException lost
                                    ? lost : cause)
                            .thenCompose(why -> this.<T>retryOrFail(policy, body, n, why));
                }
                return tx.end(true).handle((x, endErr) -> endErr == null
                                ? CompletableFuture.completedFuture(value)
                                : this.<T>retryOrFail(policy, body, n, XenStoreOperations.unwrap(endErr)))
                        .thenCompose(Function.identity());
            }).thenCompose(Function.identity());
        });
    }

    private <T> CompletableFuture<T> retryOrFail(RetryPolicy policy,
                                                 Function<Transaction, ? extends CompletionStage<T>> body,
                                                 int n, Throwable cause) {
        boolean retryable = cause instanceof TransactionConflictException || cause instanceof NoSuchTransactionException;
        if (retryable && n < policy.maxAttempts() && connection.isOpen()) {
            Duration wait = policy.backoff(n + 1);
            return CompletableFuture.supplyAsync(() -> null,
                            CompletableFuture.delayedExecutor(wait.toNanos(), TimeUnit.NANOSECONDS))
                    .thenCompose(x -> attempt(policy, body, n + 1));
        }
        return CompletableFuture.failedFuture(cause);
    }

    // ---------------------------------------------------------------- domains (dom0 only)

    /** {@code /local/domain/<domid>}, as the server computes it. */
    public CompletableFuture<String> getDomainPath(int domid) {
        return request(new Request.GetDomainPath(domid));
    }

    public CompletableFuture<Boolean> isDomainIntroduced(int domid) {
        return request(new Request.IsDomainIntroduced(domid));
    }

    /** Tells xenstored about a new domain's store ring page (mfn/gfn) and event channel. */
    public CompletableFuture<Void> introduceDomain(int domid, long mfn, int eventChannel) {
        return request(new Request.Introduce(domid, mfn, eventChannel));
    }

    public CompletableFuture<Void> releaseDomain(int domid) {
        return request(new Request.Release(domid));
    }

    public CompletableFuture<Void> resumeDomain(int domid) {
        return request(new Request.Resume(domid));
    }

    /** Lets {@code domid} (e.g. a device model stub domain) act with {@code targetDomid}'s rights. */
    public CompletableFuture<Void> setTarget(int domid, int targetDomid) {
        return request(new Request.SetTarget(domid, targetDomid));
    }

    /** A CONTROL command such as {@code help} or {@code print hello}; implementation-specific. */
    public CompletableFuture<String> control(String command, String... parameters) {
        String[] all = new String[parameters.length + 1];
        all[0] = command;
        System.arraycopy(parameters, 0, all, 1, parameters.length);
        return request(new Request.Control(Arrays.asList(all)));
    }

    /** The feature bits the server supports (GET_FEATURE without a domid). */
    public CompletableFuture<Long> supportedFeatures() {
        return request(new Request.GetFeature(OptionalInt.empty()));
    }

    public CompletableFuture<Long> domainFeatures(int domid) {
        return request(new Request.GetFeature(OptionalInt.of(domid)));
    }

    public CompletableFuture<Void> setDomainFeatures(int domid, long features) {
        return request(new Request.SetFeature(domid, features));
    }

    public CompletableFuture<List<String>> quotaNames() {
        return request(new Request.GetQuotaNames());
    }

    public CompletableFuture<Long> globalQuota(String name) {
        return request(new Request.GetQuota(OptionalInt.empty(), name));
    }

    public CompletableFuture<Long> domainQuota(int domid, String name) {
        return request(new Request.GetQuota(OptionalInt.of(domid), name));
    }

    public CompletableFuture<Void> setGlobalQuota(String name, long value) {
        return request(new Request.SetQuota(OptionalInt.empty(), name, value));
    }

    public CompletableFuture<Void> setDomainQuota(int domid, String name, long value) {
        return request(new Request.SetQuota(OptionalInt.of(domid), name, value));
    }

    /** Fails every pending request and watch with ConnectionClosedException. */
    @Override
    public void close() {
        connection.close();
    }

}
