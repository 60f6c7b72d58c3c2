package io.xenops.xenstore.error;

/**
 * The server answered a request with an ERROR reply. The frequent cases that callers branch on have
 * their own subclasses; everything else is this class with its {@link #code()}.
 */
public sealed class XenStoreErrorException extends XenStoreException
        permits NoSuchNodeException, TransactionConflictException, PermissionDeniedException {

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
