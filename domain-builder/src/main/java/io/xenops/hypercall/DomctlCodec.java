package io.xenops.hypercall;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct xen_domctl} of Xen 4.17 (interface version 0x15) for x86_64: a 16-byte header and a
 * 128-byte union. Pure layout code: no device, no Xen.
 */
public final class DomctlCodec {
    /**
     * XEN_DOMCTL_INTERFACE_VERSION of Xen 4.16 and 4.17. Xen refuses any other with EACCES; 4.18 moved
     * to 0x16 (and made getdomaininfo exact), so a newer hypervisor needs a new codec, not a new constant.
     */
    public static final int INTERFACE_VERSION_4_17 = 0x15;

    public static final int XEN_DOMCTL_PAUSEDOMAIN = 3;
    public static final int XEN_DOMCTL_UNPAUSEDOMAIN = 4;
    public static final int XEN_DOMCTL_GETDOMAININFO = 5;

    /** {@code struct xen_domctl_getdomaininfo} (uint64_aligned_t fields are 8-aligned on x86_64 anyway). */
    public static final StructLayout GETDOMAININFO = MemoryLayout.structLayout(
            JAVA_SHORT.withName("domain"),
            JAVA_SHORT.withName("pad1"),
            JAVA_INT.withName("flags"),
            JAVA_LONG.withName("tot_pages"),
            JAVA_LONG.withName("max_pages"),
            JAVA_LONG.withName("outstanding_pages"),
            JAVA_LONG.withName("shr_pages"),
            JAVA_LONG.withName("paged_pages"),
            JAVA_LONG.withName("shared_info_frame"),
            JAVA_LONG.withName("cpu_time"),
            JAVA_INT.withName("nr_online_vcpus"),
            JAVA_INT.withName("max_vcpu_id"),
            JAVA_INT.withName("ssidref"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("handle"),
            JAVA_INT.withName("cpupool"),
            JAVA_BYTE.withName("gpaddr_bits"),
            MemoryLayout.sequenceLayout(7, JAVA_BYTE).withName("pad2"),
            // struct xen_arch_domainconfig (x86): emulation_flags, misc_flags
            JAVA_INT.withName("emulation_flags"),
            JAVA_INT.withName("misc_flags"));

    /** {@code struct xen_domctl}: the union is padded to 128 bytes by its {@code uint8_t pad[128]} member. */
    public static final StructLayout DOMCTL = MemoryLayout.structLayout(
            JAVA_INT.withName("cmd"),
            JAVA_INT.withName("interface_version"),
            JAVA_SHORT.withName("domain"),
            MemoryLayout.sequenceLayout(3, JAVA_SHORT).withName("_pad"),
            MemoryLayout.sequenceLayout(128, JAVA_BYTE).withName("u"));

    public static final long UNION_OFFSET = DOMCTL.byteOffset(PathElement.groupElement("u"));

    private final int interfaceVersion;

    public DomctlCodec(int interfaceVersion) {
        this.interfaceVersion = interfaceVersion;
    }

    public int interfaceVersion() {
        return interfaceVersion;
    }

    /** Writes {@code op} into {@code target}: header filled, union zeroed (every op here has only OUT fields). */
    public void encode(Domctl op, MemorySegment target) {
        MemorySegment s = target.asSlice(0, DOMCTL.byteSize());
        s.fill((byte) 0);
        s.set(JAVA_INT, 0, op.cmd());
        s.set(JAVA_INT, 4, interfaceVersion);
        s.set(JAVA_SHORT, 8, (short) op.domid());
    }

    /** Reads back what {@link #encode} wrote (for fakes and tests). */
    public Domctl decode(MemorySegment source) {
        int cmd = source.get(JAVA_INT, 0);
        int version = source.get(JAVA_INT, 4);
        if (version != interfaceVersion) {
            throw new IllegalArgumentException("domctl interface version 0x" + Integer.toHexString(version)
                    + ", expected 0x" + Integer.toHexString(interfaceVersion));
        }
        int domid = Short.toUnsignedInt(source.get(JAVA_SHORT, 8));
        return switch (cmd) {
            case XEN_DOMCTL_PAUSEDOMAIN -> new Domctl.PauseDomain(domid);
            case XEN_DOMCTL_UNPAUSEDOMAIN -> new Domctl.UnpauseDomain(domid);
            case XEN_DOMCTL_GETDOMAININFO -> new Domctl.GetDomainInfo(domid);
            default -> throw new IllegalArgumentException("unknown domctl " + cmd);
        };
    }

    /** Decodes the getdomaininfo reply Xen left in the union of {@code domctl}. */
    public XenDomainInfo decodeDomainInfo(MemorySegment domctl) {
        MemorySegment u = domctl.asSlice(UNION_OFFSET, GETDOMAININFO.byteSize());
        byte[] handle = u.asSlice(offset("handle"), 16).toArray(JAVA_BYTE);
        return new XenDomainInfo(
                Short.toUnsignedInt(u.get(JAVA_SHORT, offset("domain"))),
                u.get(JAVA_INT, offset("flags")),
                u.get(JAVA_LONG, offset("tot_pages")),
                u.get(JAVA_LONG, offset("max_pages")),
                u.get(JAVA_LONG, offset("cpu_time")),
                u.get(JAVA_INT, offset("nr_online_vcpus")),
                u.get(JAVA_INT, offset("max_vcpu_id")),
                handle,
                u.get(JAVA_INT, offset("cpupool")));
    }

    /** The inverse of {@link #decodeDomainInfo}: what a fake hypervisor writes back. */
    public void encodeDomainInfo(XenDomainInfo info, MemorySegment domctl) {
        MemorySegment u = domctl.asSlice(UNION_OFFSET, GETDOMAININFO.byteSize());
        u.fill((byte) 0);
        domctl.set(JAVA_SHORT, 8, (short) info.domid()); // Xen echoes the domain in the header too
        u.set(JAVA_SHORT, offset("domain"), (short) info.domid());
        u.set(JAVA_INT, offset("flags"), info.flags());
        u.set(JAVA_LONG, offset("tot_pages"), info.totPages());
        u.set(JAVA_LONG, offset("max_pages"), info.maxPages());
        u.set(JAVA_LONG, offset("cpu_time"), info.cpuTimeNs());
        u.set(JAVA_INT, offset("nr_online_vcpus"), info.onlineVcpus());
        u.set(JAVA_INT, offset("max_vcpu_id"), info.maxVcpuId());
        MemorySegment.copy(MemorySegment.ofArray(info.handle()), 0, u, offset("handle"), 16);
        u.set(JAVA_INT, offset("cpupool"), info.cpupool());
    }

    static long offset(String field) {
        return GETDOMAININFO.byteOffset(PathElement.groupElement(field));
    }
}
