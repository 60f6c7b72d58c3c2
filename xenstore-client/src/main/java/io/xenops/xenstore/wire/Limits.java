package io.xenops.xenstore.wire;

/**
 * Protocol limits from xs_wire.h and docs/misc/xenstore.txt. Kept in one record, injected where
 * needed, so that a test can shrink them and so that a server may someday negotiate bigger ones.
 *
 * <p>Requests and replies have different limits. xenstored enforces {@code maxPayload} on what it
 * receives (C xenstored drops a connection that exceeds it), so a client must never send more. But
 * a server's replies are not bounded by the protocol alone: oxenstored answers DIRECTORY with the
 * whole child list in one message however long it is (8400 bytes for 300 children, seen in the
 * nested Xen testbed), where C xenstored answers E2BIG and expects DIRECTORY_PART. A client that
 * held replies to 4096 bytes could not list such a directory at all, so replies get their own,
 * larger ceiling: big enough for any directory a toolstack makes, small enough that a broken or
 * hostile server cannot make the client hold unbounded memory.
 *
 * @param maxPayload       XENSTORE_PAYLOAD_MAX; a bigger message makes xenstored drop the connection
 * @param maxAbsolutePath  XENSTORE_ABS_PATH_MAX; longer paths are refused with an error
 * @param maxRelativePath  XENSTORE_REL_PATH_MAX; what clients sending relative paths must keep to
 * @param maxReplyPayload  the largest reply payload the client accepts; at least {@code maxPayload}
 */
public record Limits(int maxPayload, int maxAbsolutePath, int maxRelativePath, int maxReplyPayload) {

    public static final int XENSTORE_PAYLOAD_MAX = 4096;
    public static final int XENSTORE_ABS_PATH_MAX = 3072;
    public static final int XENSTORE_REL_PATH_MAX = 2048;
    /**
     * The client's ceiling on one reply's payload: 1 MiB, e.g. a directory of about 40,000 children
     * with 25-character names in one oxenstored DIRECTORY reply. A longer reply is a protocol error
     * (the connection is failed, as for any framing the client cannot follow).
     */
    public static final int REPLY_PAYLOAD_MAX = 1 << 20;

    public Limits {
        if (maxPayload <= 0 || maxAbsolutePath <= 0 || maxRelativePath <= 0) {
            throw new IllegalArgumentException("limits must be positive");
        }
        if (maxReplyPayload < maxPayload) {
            throw new IllegalArgumentException("the reply ceiling " + maxReplyPayload
                    + " is below the payload limit " + maxPayload);
        }
    }

    /** The protocol limits with the default reply ceiling (at least {@code maxPayload}). */
    public Limits(int maxPayload, int maxAbsolutePath, int maxRelativePath) {
        this(maxPayload, maxAbsolutePath, maxRelativePath, Math.max(maxPayload, REPLY_PAYLOAD_MAX));
    }

    /** The limits every Xen xenstored enforces, and the default reply ceiling. */
    public static Limits standard() {
        return new Limits(XENSTORE_PAYLOAD_MAX, XENSTORE_ABS_PATH_MAX, XENSTORE_REL_PATH_MAX, REPLY_PAYLOAD_MAX);
    }

    /** The same limits with another reply ceiling. */
    public Limits withMaxReplyPayload(int ceiling) {
        return new Limits(maxPayload, maxAbsolutePath, maxRelativePath, ceiling);
    }
}
