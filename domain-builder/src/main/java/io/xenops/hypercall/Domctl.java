package io.xenops.hypercall;

/**
 * The domctl sub-operations the daemon issues (xen/include/public/domctl.h). Each is a record so a
 * fake transport can decode what was asked and tests can compare requests by value.
 */
public sealed interface Domctl {
    /** {@code XEN_DOMCTL_*} number. */
    int cmd();

    /** {@code xen_domctl.domain}. */
    int domid();

    /** XEN_DOMCTL_pausedomain: stop scheduling every vCPU (nestable; Xen counts pauses). */
    record PauseDomain(int domid) implements Domctl {
        public PauseDomain { requireDomid(domid); }

        @Override public int cmd() { return DomctlCodec.XEN_DOMCTL_PAUSEDOMAIN; }
    }

    /** XEN_DOMCTL_unpausedomain: undo one pause by the toolstack. */
    record UnpauseDomain(int domid) implements Domctl {
        public UnpauseDomain { requireDomid(domid); }

        @Override public int cmd() { return DomctlCodec.XEN_DOMCTL_UNPAUSEDOMAIN; }
    }

    /**
     * XEN_DOMCTL_getdomaininfo. Xen 4.17 answers for the first domain whose id is at least
     * {@code domid} (4.18 made it exact), so callers must check the domid in the reply.
     */
    record GetDomainInfo(int domid) implements Domctl {
        public GetDomainInfo { requireDomid(domid); }

        @Override public int cmd() { return DomctlCodec.XEN_DOMCTL_GETDOMAININFO; }
    }

    private static void requireDomid(int domid) {
        // DOMID_FIRST_RESERVED is 0x7ff0: ids above name special domains (DOMID_SELF, DOMID_IO, ...).
        if (domid < 0 || domid >= 0x7ff0) throw new IllegalArgumentException("not a domain id: " + domid);
    }
}
