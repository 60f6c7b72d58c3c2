package io.xenops.xenstore.client;

import io.xenops.xenstore.error.InvalidRequestException;
import io.xenops.xenstore.wire.Limits;
import io.xenops.xenstore.wire.Request;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An open XenStore transaction: reads see a snapshot plus this transaction's own writes, and
 * nothing is visible to others until it commits. Usually obtained through
 * {@link XenStoreClient#transaction}, which ends it and retries on conflict.
 */
public final class Transaction implements XenStoreOperations {

    private final XenStoreConnection connection;
    private final int id;
    private final Limits limits;
    private final AtomicBoolean ended = new AtomicBoolean();

    Transaction(XenStoreConnection connection, int id, Limits limits) {
        this.connection = connection;
        this.id = id;
        this.limits = limits;
    }

    /** The server's transaction id (unsigned). */
    public int id() {
        return id;
    }

    @Override
    public <R> CompletableFuture<R> request(Request<R> request) {
        if (ended.get()) {
            return CompletableFuture.failedFuture(new InvalidRequestException(
                    "transaction " + Integer.toUnsignedString(id) + " already ended"));
        }
        return connection.send(request, request.transactional() ? id : 0);
    }

    @Override
    public Limits limits() {
        return limits;
    }

    /** Commits ({@code true}) or discards; a commit may fail with a TransactionConflictException. */
    public CompletableFuture<Void> end(boolean commit) {
        if (!ended.compareAndSet(false, true)) {
            return CompletableFuture.failedFuture(new InvalidRequestException("transaction already ended"));
        }
        return connection.send(new Request.TransactionEnd(commit), id);
    }

    public boolean ended() {
        return ended.get();
    }
}
