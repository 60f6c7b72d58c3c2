package io.xenops.hypercall;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Typed hypercalls over a {@link HypercallTransport}: the domctls of the request path and the queries
 * that verify domains. Calls are serialised on the transport's one buffer page; each takes
 * microseconds, so a lock costs less than a pool would.
 */
public final class XenHypercalls implements AutoCloseable {
    private static final int XENVER_VERSION = 0;
    private static final int XENVER_EXTRAVERSION = 1;
    private static final int XEN_EXTRAVERSION_LEN = 16;

    private final HypercallTransport transport;
    private final DomctlCodec codec;
    private final ReentrantLock lock = new ReentrantLock();

    public XenHypercalls(HypercallTransport transport, DomctlCodec codec) {
        this.transport = transport;
        this.codec = codec;
    }

    public void pauseDomain(int domid) throws HypercallException {
        domctl(new Domctl.PauseDomain(domid));
    }

    public void unpauseDomain(int domid) throws HypercallException {
        domctl(new Domctl.UnpauseDomain(domid));
    }

    /** The domain's info, or empty when Xen has no domain with exactly this id. */
    public Optional<XenDomainInfo> domainInfo(int domid) throws HypercallException {
        Optional<XenDomainInfo> next = domainAtOrAfter(domid);
        return next.filter(i -> i.domid() == domid);
    }

    /** Every domain, in domid order (walks getdomaininfo's "first id at least n" answers of Xen 4.17). */
    public List<XenDomainInfo> domains() throws HypercallException {
        List<XenDomainInfo> out = new ArrayList<>();
        int next = 0;
        while (next < 0x7ff0) {
            Optional<XenDomainInfo> info = domainAtOrAfter(next);
            if (info.isEmpty()) break;
            out.add(info.get());
            if (info.get().domid() < next) break; // an exact-match hypervisor echoing garbage: stop, never loop
            next = info.get().domid() + 1;
        }
        return out;
    }

    public XenVersion version() throws HypercallException {
        lock.lock();
        try {
            long v = transport.hypercall(PrivcmdHypercall.HYPERVISOR_XEN_VERSION, XENVER_VERSION, 0);
            MemorySegment page = transport.bufferPage();
            page.asSlice(0, XEN_EXTRAVERSION_LEN).fill((byte) 0);
            transport.hypercall(PrivcmdHypercall.HYPERVISOR_XEN_VERSION, XENVER_EXTRAVERSION, page.address());
            byte[] raw = page.asSlice(0, XEN_EXTRAVERSION_LEN).toArray(JAVA_BYTE);
            int len = 0;
            while (len < raw.length && raw[len] != 0) len++;
            return new XenVersion((int) (v >>> 16), (int) (v & 0xffff), new String(raw, 0, len, StandardCharsets.US_ASCII));
        } finally {
            lock.unlock();
        }
    }

    private Optional<XenDomainInfo> domainAtOrAfter(int domid) throws HypercallException {
        lock.lock();
        try {
            domctlLocked(new Domctl.GetDomainInfo(domid));
            return Optional.of(codec.decodeDomainInfo(transport.bufferPage()));
        } catch (HypercallException e) {
            if (e.errno() == HypercallException.ESRCH) return Optional.empty();
            throw e;
        } finally {
            lock.unlock();
        }
    }

    private void domctl(Domctl op) throws HypercallException {
        lock.lock();
        try {
            domctlLocked(op);
        } finally {
            lock.unlock();
        }
    }

    private void domctlLocked(Domctl op) throws HypercallException {
        MemorySegment page = transport.bufferPage();
        codec.encode(op, page);
        transport.hypercall(PrivcmdHypercall.HYPERVISOR_DOMCTL, page.address());
    }

    @Override
    public void close() {
        transport.close();
    }
}
