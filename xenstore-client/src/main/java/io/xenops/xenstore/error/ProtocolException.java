package io.xenops.xenstore.error;

/**
 * The peer sent bytes that are not a valid XenStore message (bad length, unknown type, malformed
 * payload, a reply to no request). The connection that saw it cannot be trusted any more.
 */
public final class ProtocolException extends XenStoreException {
    public ProtocolException(String message) {
        super(message);
    }
}
