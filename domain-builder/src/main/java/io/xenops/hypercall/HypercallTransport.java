package io.xenops.hypercall;

import java.lang.foreign.MemorySegment;

/**
 * Where hypercalls go: {@link PrivcmdTransport} in dom0, a fake in tests. Separate from the codecs
 * ({@link PrivcmdHypercall}, {@link DomctlCodec}) so struct layouts can be tested without Xen.
 */
public interface HypercallTransport extends AutoCloseable {
    /**
     * One page of memory Xen may read and write while a hypercall runs (locked, never copied on
     * fork). Owned by the transport; valid until {@link #close()}. Callers serialise their use.
     */
    MemorySegment bufferPage();

    /**
     * Issues hypercall {@code op} with up to five arguments (pointers are
     * {@link MemorySegment#address()} of {@link #bufferPage()}); returns Xen's non-negative result.
     */
    long hypercall(long op, long... args) throws HypercallException;

    @Override
    void close();
}
