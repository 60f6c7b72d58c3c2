package io.xenops.xenstore.conformance;

import io.xenops.xenstore.error.ErrorCode;

import java.util.Locale;
import java.util.OptionalInt;

/**
 * Which xenstored the suite is talking to, and the few points where the real daemons answer the
 * same request differently. A check asserts the exact behaviour of the server it runs against
 * (E2BIG where oxenstored's value quota applies, success where C xenstored has none), so a
 * difference is written down and tested, never skipped. Measured against Debian bookworm's Xen
 * 4.17 daemons in the nested Xen testbed (docs/xenstore.md, "Where the servers differ").
 */
public enum ServerProfile {

    /** Our in-process {@code XenStoreServer}: the semantics of C xenstored (docs/misc/xenstore.txt). */
    XENOPS(OptionalInt.empty(), ErrorCode.ENOENT, true, true, ErrorCode.ENOSPC),

    /** C xenstored (tools/xenstore), the reference implementation. */
    CXENSTORED(OptionalInt.empty(), ErrorCode.ENOENT, true, true, ErrorCode.ENOSPC),

    /**
     * oxenstored (tools/ocaml/xenstored), Debian's default: a value quota that binds dom0 too
     * ({@code quota-maxsize = 2048} in Debian's oxenstored.conf, E2BIG above it); EIO for a
     * transaction it does not know (its lookup fails outside its errno mapping); a DIRECTORY reply
     * as long as the child list, never E2BIG (no DIRECTORY_PART before the 4.20 fork); a request
     * announcing more than 4096 bytes is cut to 4096 and answered, the connection kept; quotas
     * fail with EQUOTA.
     */
    OXENSTORED(OptionalInt.of(2048), ErrorCode.EIO, false, false, ErrorCode.EQUOTA);

    private final OptionalInt maxValueSize;
    private final ErrorCode unknownTransaction;
    private final boolean splitsLargeDirectories;
    private final boolean dropsOversizedRequests;
    private final ErrorCode quotaError;

    ServerProfile(OptionalInt maxValueSize, ErrorCode unknownTransaction, boolean splitsLargeDirectories,
                  boolean dropsOversizedRequests, ErrorCode quotaError) {
        this.maxValueSize = maxValueSize;
        this.unknownTransaction = unknownTransaction;
        this.splitsLargeDirectories = splitsLargeDirectories;
        this.dropsOversizedRequests = dropsOversizedRequests;
        this.quotaError = quotaError;
    }

    /** The largest value a dom0 WRITE may store (E2BIG above); empty when only the payload limits it. */
    public OptionalInt maxValueSize() {
        return maxValueSize;
    }

    /** The error for a request naming a transaction the server does not know. */
    public ErrorCode unknownTransactionError() {
        return unknownTransaction;
    }

    /**
     * True if DIRECTORY of a list longer than one payload answers E2BIG (and DIRECTORY_PART lists
     * it); false if the server sends the whole list in one reply longer than 4096 bytes.
     */
    public boolean splitsLargeDirectories() {
        return splitsLargeDirectories;
    }

    /** True if a request announcing more than 4096 payload bytes makes the server drop the connection. */
    public boolean dropsOversizedRequests() {
        return dropsOversizedRequests;
    }

    /** The error of a domain over its node quota. */
    public ErrorCode quotaError() {
        return quotaError;
    }

    /** Parses {@code oxenstored}, {@code cxenstored} (or {@code xenstored}), {@code xenops}. */
    public static ServerProfile parse(String s) {
        return switch (s.strip().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "")) {
            case "oxenstored" -> OXENSTORED;
            case "cxenstored", "xenstored" -> CXENSTORED;
            case "xenops" -> XENOPS;
            default -> throw new IllegalArgumentException("unknown server " + s + " (oxenstored, cxenstored, xenops)");
        };
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
