package io.xenops.xenstore.error;

/**
 * The server answered a request with an ERROR reply. The frequent cases that callers branch on have
 * their own subclasses; everything else is this class with its {@link #code()}.
 */
public sealed class XenStoreErrorException extends XenStoreException
        permits NoSuchNodeException, TransactionConflictException, PermissionDeniedException,
        NoSuchTransactionException {

    private final ErrorCode code;
    private final String wireName;

    protected XenStoreErrorException(ErrorCode code, String wireName, String context) {
        super(wireName + (context == null || context.isEmpty() ? "" : " (" + context + ")"));
        this.code = code;
        this.wireName = wireName;
    }

    /** Builds the most specific exception for an errno name received from (or sent by) a server. */
    public static XenStoreErrorException of(String wireName, String context) {
        ErrorCode code = ErrorCode.fromWire(wireName);
        String name = code == ErrorCode.UNKNOWN ? wireName : code.name();
        return switch (code) {
            case ENOENT -> new NoSuchNodeException(name, context);
            case EAGAIN -> new TransactionConflictException(name, context);
            case EACCES -> new PermissionDeniedException(name, context);
            default -> new XenStoreErrorException(code, name, context);
        };
    }

    /**
     * Like {@link #of(String, String)}, knowing the request: the answers that mean "no such
     * transaction" (ENOENT to TRANSACTION_END; EIO, oxenstored's word, to a request in a
     * transaction) become a {@link NoSuchTransactionException}.
     *
     * @param txId              the transaction the request was sent in (0 for none)
     * @param transactionEnd    the request was TRANSACTION_END
     */
    public static XenStoreErrorException of(String wireName, String context, int txId, boolean transactionEnd) {
        ErrorCode code = ErrorCode.fromWire(wireName);
        if (txId != 0 && (code == ErrorCode.EIO || (code == ErrorCode.ENOENT && transactionEnd))) {
            return new NoSuchTransactionException(code, code.name(), context + " in transaction "
                    + Integer.toUnsignedString(txId) + ", which the server does not know");
        }
        return of(wireName, context);
    }

    public static XenStoreErrorException of(ErrorCode code, String context) {
        return of(code.name(), context);
    }

    public ErrorCode code() {
        return code;
    }

    /** The errno name exactly as it appeared on the wire (useful when {@link #code()} is UNKNOWN). */
    public String wireName() {
        return wireName;
    }
}
