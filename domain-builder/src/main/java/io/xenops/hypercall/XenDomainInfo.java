package io.xenops.hypercall;

import java.util.HexFormat;

/**
 * The parts of {@code struct xen_domctl_getdomaininfo} the daemon uses.
 *
 * @param flags    {@code XEN_DOMINF_*} bits, the shutdown reason in bits 16..23
 * @param cpuTimeNs CPU time the domain has used
 * @param handle   the domain's 16-byte handle (libxl's UUID)
 */
public record XenDomainInfo(int domid, int flags, long totPages, long maxPages, long cpuTimeNs,
                            int onlineVcpus, int maxVcpuId, byte[] handle, int cpupool) {
    public static final int DYING = 1;
    public static final int HVM = 1 << 1;
    public static final int SHUTDOWN = 1 << 2;
    public static final int PAUSED = 1 << 3;
    public static final int BLOCKED = 1 << 4;
    public static final int RUNNING = 1 << 5;
    public static final int SHUTDOWN_SHIFT = 16;

    /** {@code SHUTDOWN_*} of xen/include/public/sched.h. */
    public enum ShutdownReason { POWEROFF, REBOOT, SUSPEND, CRASH, WATCHDOG, SOFT_RESET, UNKNOWN }

    public XenDomainInfo {
        handle = handle.clone();
    }

    @Override
    public byte[] handle() {
        return handle.clone();
    }

    public boolean dying() { return (flags & DYING) != 0; }

    public boolean shutdown() { return (flags & SHUTDOWN) != 0; }

    /** Paused by the toolstack (domctl pause count above zero). */
    public boolean paused() { return (flags & PAUSED) != 0; }

    /** Meaningful only when {@link #shutdown()}. */
    public ShutdownReason shutdownReason() {
        int code = (flags >>> SHUTDOWN_SHIFT) & 0xff;
        ShutdownReason[] all = ShutdownReason.values();
        return code < all.length - 1 ? all[code] : ShutdownReason.UNKNOWN;
    }

    /** The handle in UUID form, as {@code xl list -v} prints it. */
    public String uuid() {
        String h = HexFormat.of().formatHex(handle);
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20) + "-" + h.substring(20);
    }
}
