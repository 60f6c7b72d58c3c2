package io.xenops.xenstore.error;

import java.util.Locale;

/**
 * The errno names xenstored sends in ERROR replies (xs_wire.h's xsd_errors, plus EQUOTA and EPERM
 * which oxenstored is known to send). The name travels on the wire, never the number.
 */
public enum ErrorCode {
    EINVAL, EACCES, EEXIST, EISDIR, ENOENT, ENOMEM, ENOSPC, EIO, ENOTEMPTY, ENOSYS, EROFS, EBUSY,
    EAGAIN, EISCONN, E2BIG, EPERM, EQUOTA,
    /** A name this library does not know; the raw string is kept in the exception. */
    UNKNOWN;

    /** Maps a wire string to a code; never fails, unknown names become {@link #UNKNOWN}. */
    public static ErrorCode fromWire(String name) {
        String n = name.strip().toUpperCase(Locale.ROOT);
        for (ErrorCode c : values()) {
            if (c != UNKNOWN && c.name().equals(n)) {
                return c;
            }
        }
        return UNKNOWN;
    }
}
