package io.xenops.xenstore.client;

import io.xenops.xenstore.error.ConnectionClosedException;
import io.xenops.xenstore.error.RequestTimeoutException;
import io.xenops.xenstore.error.NoSuchTransactionException;
import io.xenops.xenstore.error.TransactionConflictException;
import io.xenops.xenstore.error.XenStoreErrorException;
import io.xenops.xenstore.error.XenStoreException;
import io.xenops.xenstore.wire.Permissions;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Plain blocking calls over the asynchronous API, for scripts, tools and tests. Each call waits at
 * most the timeout and throws the library's exceptions unwrapped. Must not be called from the
 * connection's reader thread (a future's continuation), where waiting would deadlock.
 */
public final class BlockingXenStore {

    private final XenStoreOperations ops;
    private final XenStoreConnection connection;
    private final Duration timeout;

    BlockingXenStore(XenStoreOperations ops, XenStoreConnection connection, Duration timeout) {
        this.ops = ops;
        this.connection = connection;
        this.timeout = timeout;
    }

    public byte[] read(String path) {
        return await(ops.read(path));
    }

    public String readString(String path) {
        return await(ops.readString(path));
    }

    public Optional<String> readStringIfExists(String path) {
        return await(ops.readStringIfExists(path));
    }

    public boolean exists(String path) {
        return await(ops.exists(path));
    }

    public void write(String path, String value) {
        await(ops.write(path, value));
    }

    public void write(String path, byte[] value) {
        await(ops.write(path, value));
    }

    public void mkdir(String path) {
        await(ops.mkdir(path));
    }

    public void rm(String path) {
        await(ops.rm(path));
    }

    public List<String> directory(String path) {
        return await(ops.directory(path));
    }

    public Permissions getPermissions(String path) {
        return await(ops.getPermissions(path));
    }

    public void setPermissions(String path, Permissions permissions) {
        await(ops.setPermissions(path, permissions));
    }

    /**
     * Runs {@code body} in a transaction on this thread, committing at the end and running it again
     * on conflict (EAGAIN) or when the server lost the transaction ({@link NoSuchTransactionException}),
     * up to the policy's bound. Only valid on a client (not inside a transaction).
     */
    public <T> T transaction(RetryPolicy policy, Function<BlockingXenStore, T> body) {
        if (!(ops instanceof XenStoreClient client)) {
            throw new IllegalStateException("transactions do not nest");
        }
        XenStoreErrorException last = null;
        for (int attempt = 1; attempt <= policy.maxAttempts(); attempt++) {
            if (attempt > 1) {
                sleep(policy.backoff(attempt));
            }
            Transaction tx = await(client.startTransaction());
            T value;
            try {
                value = body.apply(new BlockingXenStore(tx, connection, timeout));
            } catch (TransactionConflictException | NoSuchTransactionException e) {
                discard(tx);
                last = e;
                continue;
            } catch (RuntimeException e) {
                NoSuchTransactionException lost = discard(tx);
                if (lost == null) {
                    throw e;
                }
                // The body failed because the server dropped its transaction (C xenstored answers
                // ENOENT to a read in it): nothing was committed, run it again.
                last = lost;
                continue;
            }
            try {
                await(tx.end(true));
                return value;
            } catch (TransactionConflictException | NoSuchTransactionException e) {
                last = e;
            }
        }
        throw last;
    }

    public <T> T transaction(Function<BlockingXenStore, T> body) {
        return transaction(RetryPolicy.defaults(), body);
    }

    /** Ends {@code tx} without committing; returns the failure if the server had lost it. */
    private NoSuchTransactionException discard(Transaction tx) {
        if (!tx.ended()) {
            try {
                await(tx.end(false));
            } catch (NoSuchTransactionException lost) {
                return lost;
            } catch (XenStoreException ignored) {
                // The transaction is being abandoned; its end result changes nothing.
            }
        }
        return null;
    }

    /** Waits for any of this library's futures with this object's timeout. */
    public <T> T await(CompletableFuture<T> f) {
        if (connection.isReaderThread()) {
            throw new IllegalStateException(
                    "blocking XenStore call on the connection's reader thread would deadlock; use the async API");
        }
        try {
            return f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new RequestTimeoutException("no reply from " + connection.describe() + " within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionClosedException("interrupted while waiting for XenStore", e);
        } catch (ExecutionException e) {
            Throwable c = XenStoreOperations.unwrap(e);
            if (c instanceof RuntimeException r) {
                // Re-thrown as is: its stack shows where the failure was detected (the reader).
                throw r;
            }
            throw new ConnectionClosedException("XenStore request failed", c);
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionClosedException("interrupted", e);
        }
    }
}
