package io.xenops.image;

import java.util.Objects;

/**
 * An image could not be read, validated, stored or transferred. The message says what and why; the
 * {@link Reason} is what an API layer maps to a status, so handlers never parse messages.
 */
public class ImageException extends RuntimeException {
    /** What kind of failure: one per answer a client can act on differently. */
    public enum Reason {
        /** The input is wrong: not an ELF, wrong architecture, no boot note, bad manifest, bad name (400). */
        INVALID,
        /** The image or one of its parts is over the configured size limit (413). */
        TOO_LARGE,
        /** No such image, tag or remote reference (404). */
        NOT_FOUND,
        /** The operation conflicts with the store's state, e.g. removing an image that is pinned (409). */
        CONFLICT,
        /** The registry refused our credentials or asked for some we do not have (401). */
        UNAUTHORIZED,
        /** The registry failed, timed out or served content that does not match its digest (502). */
        REGISTRY,
        /** The local disk failed (500). */
        STORAGE
    }

    private final Reason reason;

    public ImageException(String message) { this(Reason.INVALID, message); }

    public ImageException(String message, Throwable cause) { this(Reason.INVALID, message, cause); }

    public ImageException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public ImageException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() { return reason; }
}
