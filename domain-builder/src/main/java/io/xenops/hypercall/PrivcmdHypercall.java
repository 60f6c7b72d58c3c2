package io.xenops.hypercall;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct privcmd_hypercall { __u64 op; __u64 arg[5]; }} from Linux's
 * {@code include/uapi/xen/privcmd.h}, the argument of {@code IOCTL_PRIVCMD_HYPERCALL}.
 */
public record PrivcmdHypercall(long op, long[] args) {
    /** {@code _IOC(_IOC_NONE, 'P', 0, sizeof(struct privcmd_hypercall))}: size 48 in bits 16..29. */
    public static final long IOCTL_PRIVCMD_HYPERCALL = ioc(0, 'P', 0, 48);

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("op"), MemoryLayout.sequenceLayout(5, JAVA_LONG).withName("arg"));

    /** Hypercall numbers from xen/include/public/xen.h. */
    public static final int HYPERVISOR_XEN_VERSION = 17;
    public static final int HYPERVISOR_DOMCTL = 36;

    public PrivcmdHypercall {
        if (args.length > 5) throw new IllegalArgumentException("at most 5 hypercall arguments, got " + args.length);
        args = args.clone();
    }

    /** Linux's _IOC(dir, type, nr, size) on x86. */
    static long ioc(int dir, char type, int nr, int size) {
        return ((long) dir << 30) | ((long) size << 16) | ((long) type << 8) | nr;
    }

    /** Writes the struct into {@code target} (at least {@link #LAYOUT} bytes); unused arguments are 0. */
    public void encode(MemorySegment target) {
        target.asSlice(0, LAYOUT.byteSize()).fill((byte) 0);
        target.set(JAVA_LONG, 0, op);
        for (int i = 0; i < args.length; i++) target.set(JAVA_LONG, 8 + 8L * i, args[i]);
    }
}
