package io.xenops.xenstore.wire;

/**
 * Protocol limits from xs_wire.h and docs/misc/xenstore.txt. Kept in one record, injected where
 * needed, so that a test can shrink them and so that a server may someday negotiate bigger ones.
 *
 * @param maxPayload       XENSTORE_PAYLOAD_MAX; a bigger message makes xenstored drop the connection
 * @param maxAbsolutePath  XENSTORE_ABS_PATH_MAX; longer paths are refused with an error
 * @param maxRelativePath  XENSTORE_REL_PATH_MAX; what clients sending relative paths must keep to
 */
public record Limits(int maxPayload, int maxAbsolutePath, int maxRelativePath) {

    public static final int XENSTORE_PAYLOAD_MAX = 4096;
    public static final int XENSTORE_ABS_PATH_MAX = 3072;
    public static final int XENSTORE_REL_PATH_MAX = 2048;

    public Limits {
        if (maxPayload <= 0 || maxAbsolutePath <= 0 || maxRelativePath <= 0) {
            throw new IllegalArgumentException("limits must be positive");
        }
    }

    /** The limits every Xen xenstored enforces. */
    public static Limits standard() {
        return new Limits(XENSTORE_PAYLOAD_MAX, XENSTORE_ABS_PATH_MAX, XENSTORE_REL_PATH_MAX);
    }
}
