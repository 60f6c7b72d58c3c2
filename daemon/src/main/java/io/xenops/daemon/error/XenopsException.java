package io.xenops.daemon.error;

/**
 * Every error a client can see. The API maps each subtype to exactly one HTTP status and problem type
 * (see io.xenops.daemon.api.Problems); nothing else reaches a client except as "internal".
 */
public abstract sealed class XenopsException extends RuntimeException {
    protected XenopsException(String message, Throwable cause) { super(message, cause); }

    /** The request is malformed or breaks a rule of the contract. */
    public static final class InvalidRequest extends XenopsException {
        public InvalidRequest(String message) { super(message, null); }
    }

    /** No VM (or pool) with that id. */
    public static final class NotFound extends XenopsException {
        public NotFound(String message) { super(message, null); }
    }

    /** The image is not in the store. */
    public static final class UnknownImage extends XenopsException {
        private final String image;

        public UnknownImage(String image) {
            super("unknown image '" + image + "'", null);
            this.image = image;
        }

        public String image() { return image; }
    }

    /** The request body is larger than the daemon accepts. */
    public static final class PayloadTooLarge extends XenopsException {
        public PayloadTooLarge(String message) { super(message, null); }
    }

    /** The request body is not JSON. */
    public static final class UnsupportedMediaType extends XenopsException {
        public UnsupportedMediaType(String message) { super(message, null); }
    }

    /** The VM is in a state where the operation makes no sense. */
    public static final class Conflict extends XenopsException {
        public Conflict(String message) { super(message, null); }
    }

    /** No VM can be had now: the pool is empty and cold spawns are off, or the host holds all it may. */
    public static final class CapacityExhausted extends XenopsException {
        public CapacityExhausted(String message, Throwable cause) { super(message, cause); }
    }

    /** The guest did not answer in time; the VM has been destroyed. */
    public static final class GuestTimeout extends XenopsException {
        public GuestTimeout(String message) { super(message, null); }
    }

    /** No credentials, or credentials the daemon does not know. */
    public static final class Unauthorized extends XenopsException {
        public Unauthorized(String message) { super(message, null); }
    }

    /** Known credentials without the scope the operation needs. */
    public static final class Forbidden extends XenopsException {
        public Forbidden(String message) { super(message, null); }
    }

    /** The caller already holds as many VMs as its quota allows. */
    public static final class QuotaExceeded extends XenopsException {
        public QuotaExceeded(String message) { super(message, null); }
    }

    /** The caller sends requests faster than its rate limit. */
    public static final class RateLimited extends XenopsException {
        private final long retryAfterSeconds;

        public RateLimited(String message, long retryAfterSeconds) {
            super(message, null);
            this.retryAfterSeconds = retryAfterSeconds;
        }

        public long retryAfterSeconds() { return retryAfterSeconds; }
    }

    /** The hypervisor refused or failed; the VM (if any) has been destroyed. */
    public static final class DriverFailure extends XenopsException {
        public DriverFailure(String message, Throwable cause) { super(message, cause); }
    }
}
