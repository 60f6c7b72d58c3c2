package io.xenops.xenstore.error;

/** EAGAIN: A transaction could not commit because something it touched changed; retrying is safe. */
public final class TransactionConflictException extends XenStoreErrorException {
    TransactionConflictException(String wireName, String context) {
        super(ErrorCode.EAGAIN, wireName, context);
    }
}
