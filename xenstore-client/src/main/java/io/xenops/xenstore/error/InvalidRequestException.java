package io.xenops.xenstore.error;

/**
 * A request was refused before it was sent because it breaks a protocol limit (payload size, path
 * length, path syntax). Checked on our side because xenstored drops a connection whose message is
 * over the payload limit, which would fail every other pending request too.
 */
public final class InvalidRequestException extends XenStoreException {
    public InvalidRequestException(String message) {
        super(message);
    }
}
