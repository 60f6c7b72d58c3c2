package io.xenops.daemon.webhook;

/** A client named a callback URL the daemon will not post to; the message says why, for a 400 answer. */
public final class InvalidCallbackUrlException extends IllegalArgumentException {
    public InvalidCallbackUrlException(String message) { super(message); }
}
