package io.xenops.hypercall;

import java.io.IOException;

/** A hypercall or a call into the privcmd device failed; {@link #errno()} is Linux's (Xen's negated result). */
public final class HypercallException extends IOException {
    private static final long serialVersionUID = 1L;

    /** No such domain (Xen's -ESRCH). */
    public static final int ESRCH = 3;
    /** Operation not permitted (not dom0, or the device is not privcmd). */
    public static final int EPERM = 1;

    private final int errno;

    public HypercallException(String what, int errno) {
        super(what + " failed: errno " + errno + (errno == ESRCH ? " (no such domain)" : ""));
        this.errno = errno;
    }

    public HypercallException(String what, Throwable cause) {
        super(what + " failed: " + cause, cause);
        this.errno = -1;
    }

    /** The errno, or -1 when the failure was not a system call result. */
    public int errno() {
        return errno;
    }
}
