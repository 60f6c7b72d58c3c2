package io.xenops.xenstore.error;

/**
 * The server does not know the transaction a request named: it ended, was dropped by RESET_WATCHES,
 * or the server restarted. Nothing of it was committed, so running the work again in a new
 * transaction is safe ({@code XenStoreClient.transaction} does).
 *
 * <p>The two real daemons say it differently, and {@link #code()} keeps what was said: C xenstored
 * (and our server) answer ENOENT, oxenstored answers EIO (its lookup of the transaction fails
 * outside its errno mapping). The client recognises it where the answer is unambiguous: ENOENT to
 * TRANSACTION_END, and EIO to any request inside a transaction. ENOENT to a READ or WRITE inside a
 * transaction stays a {@link NoSuchNodeException} (C xenstored says the same for a missing node).
 */
public final class NoSuchTransactionException extends XenStoreErrorException {
    NoSuchTransactionException(ErrorCode code, String wireName, String context) {
        super(code, wireName, context);
    }
}
