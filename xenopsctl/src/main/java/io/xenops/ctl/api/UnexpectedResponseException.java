package io.xenops.ctl.api;

/** A success status whose body does not match the API contract. */
public final class UnexpectedResponseException extends RuntimeException {
    public UnexpectedResponseException(String message, Throwable cause) {
        super(message, cause);
    }
}
