package io.xenops.driver;

/** A driver operation failed. Subclasses say why, so the daemon can map each to one API error. */
public class DriverException extends RuntimeException {
    public DriverException(String message) { super(message); }

    public DriverException(String message, Throwable cause) { super(message, cause); }

    /** The driver has no domain with that id. */
    public static final class NoSuchDomain extends DriverException {
        public NoSuchDomain(String id) { super("no domain " + id); }
    }

    /** The host cannot hold another domain (memory, processes, file descriptors). */
    public static final class OutOfCapacity extends DriverException {
        public OutOfCapacity(String message, Throwable cause) { super(message, cause); }
    }
}
