package io.xenops.xenstore.error;

/**
 * The connection was closed by us, or broke (EOF, I/O error, protocol error) while a request was
 * outstanding. The cause, when present, says why it broke.
 */
public final class ConnectionClosedException extends XenStoreException {
    public ConnectionClosedException(String message) {
        super(message);
    }

    public ConnectionClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
