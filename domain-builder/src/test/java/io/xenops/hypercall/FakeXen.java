package io.xenops.hypercall;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * A hypervisor in memory behind {@link HypercallTransport}: it decodes each domctl from the buffer page
 * with the real codec, as Xen 4.17 would read it, and answers like Xen (getdomaininfo: first id at or
 * after the one asked; errors as errno). Tests see every request in {@link #requests()}.
 */
public final class FakeXen implements HypercallTransport {
    public static final DomctlCodec CODEC = new DomctlCodec(DomctlCodec.INTERFACE_VERSION_4_17);

    private final Arena arena = Arena.ofShared();
    private final MemorySegment page = arena.allocate(4096, 4096);
    private final TreeMap<Integer, XenDomainInfo> domains = new TreeMap<>();
    private final List<Domctl> requests = new ArrayList<>();
    private final List<Long> bufferAddresses = new ArrayList<>();

    public synchronized void put(XenDomainInfo info) {
        domains.put(info.domid(), info);
    }

    public synchronized void remove(int domid) {
        domains.remove(domid);
    }

    public synchronized XenDomainInfo get(int domid) {
        return domains.get(domid);
    }

    /** Sets the shutdown flag with a reason, as SCHEDOP_shutdown does. */
    public synchronized void shutdown(int domid, XenDomainInfo.ShutdownReason reason) {
        XenDomainInfo i = domains.get(domid);
        int flags = (i.flags() & ~(XenDomainInfo.RUNNING | 0xff << XenDomainInfo.SHUTDOWN_SHIFT))
                | XenDomainInfo.SHUTDOWN | reason.ordinal() << XenDomainInfo.SHUTDOWN_SHIFT;
        domains.put(domid, withFlags(i, flags));
    }

    public synchronized List<Domctl> requests() {
        return List.copyOf(requests);
    }

    /** The argument of every domctl: it must always be the buffer page. */
    public synchronized List<Long> bufferAddresses() {
        return List.copyOf(bufferAddresses);
    }

    public static XenDomainInfo paused(int domid, byte[] handle) {
        return new XenDomainInfo(domid, XenDomainInfo.PAUSED, 1024, 1024, 0, 1, 0, handle, 0);
    }

    private static XenDomainInfo withFlags(XenDomainInfo i, int flags) {
        return new XenDomainInfo(i.domid(), flags, i.totPages(), i.maxPages(), i.cpuTimeNs(), i.onlineVcpus(),
                i.maxVcpuId(), i.handle(), i.cpupool());
    }

    @Override
    public MemorySegment bufferPage() {
        return page;
    }

    @Override
    public synchronized long hypercall(long op, long... args) throws HypercallException {
        if (op == PrivcmdHypercall.HYPERVISOR_XEN_VERSION) {
            if (args[0] == 0) return (4L << 16) | 17;
            MemorySegment.copy(MemorySegment.ofArray("-fake".getBytes()), 0, page, 0, 5);
            return 0;
        }
        if (op != PrivcmdHypercall.HYPERVISOR_DOMCTL) throw new HypercallException("hypercall " + op, 38 /* ENOSYS */);
        bufferAddresses.add(args[0]);
        MemorySegment buf = MemorySegment.ofAddress(args[0]).reinterpret(DomctlCodec.DOMCTL.byteSize());
        Domctl d = CODEC.decode(buf);
        requests.add(d);
        switch (d) {
            case Domctl.GetDomainInfo g -> {
                var next = domains.ceilingEntry(g.domid());
                if (next == null) throw new HypercallException("domctl", HypercallException.ESRCH);
                CODEC.encodeDomainInfo(next.getValue(), buf);
            }
            case Domctl.PauseDomain p -> {
                XenDomainInfo i = require(p.domid());
                domains.put(p.domid(), withFlags(i, (i.flags() | XenDomainInfo.PAUSED) & ~XenDomainInfo.RUNNING));
            }
            case Domctl.UnpauseDomain u -> {
                XenDomainInfo i = require(u.domid());
                if (!i.paused()) throw new HypercallException("domctl", 22 /* EINVAL: pause count already 0 */);
                domains.put(u.domid(), withFlags(i, (i.flags() & ~XenDomainInfo.PAUSED) | XenDomainInfo.RUNNING));
            }
        }
        return 0;
    }

    private XenDomainInfo require(int domid) throws HypercallException {
        XenDomainInfo i = domains.get(domid);
        if (i == null) throw new HypercallException("domctl", HypercallException.ESRCH);
        return i;
    }

    @Override
    public void close() {
        arena.close();
    }
}
