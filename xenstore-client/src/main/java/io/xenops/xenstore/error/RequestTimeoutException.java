package io.xenops.xenstore.error;

/** A blocking call gave up waiting. The request may still complete later on the connection. */
public final class RequestTimeoutException extends XenStoreException {
    public RequestTimeoutException(String message) {
        super(message);
    }
}
