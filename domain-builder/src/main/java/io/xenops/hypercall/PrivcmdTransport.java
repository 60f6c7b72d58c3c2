package io.xenops.hypercall;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Hypercalls through Linux's {@code /dev/xen/privcmd} with the FFM API.
 *
 * <p>Buffers: Xen reads and writes hypercall arguments through the caller's virtual addresses while the
 * ioctl runs, so the page must be present and must not be copy-on-write shared with a forked child.
 * As libxencall does, the page comes from {@code mmap} of {@code /dev/xen/hypercall} (Linux 4.18+),
 * which hands out locked pages the kernel never moves; where that device is missing it falls back to
 * an anonymous {@code MAP_LOCKED} mapping with {@code MADV_DONTFORK} (libxencall's old path).
 */
public final class PrivcmdTransport implements HypercallTransport {
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;
    private static final int PROT_READ_WRITE = 3;
    private static final int MAP_SHARED = 1;
    private static final int MAP_PRIVATE = 2;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_LOCKED = 0x2000;
    private static final int MADV_DONTFORK = 10;
    private static final int ENOENT = 2;
    private static final long PAGE = 4096;

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private final Arena arena = Arena.ofShared();
    private final MethodHandle ioctl;
    private final MethodHandle munmap;
    private final MethodHandle close;
    private final int privcmdFd;
    private final int bufferFd;
    private final MemorySegment page;
    // One ioctl argument struct and one errno slot, reused under the lock: the request path allocates nothing.
    private final ReentrantLock lock = new ReentrantLock();
    private final MemorySegment request = arena.allocate(PrivcmdHypercall.LAYOUT);
    private final MemorySegment callState = arena.allocate(CALL_STATE);

    private PrivcmdTransport(Path privcmd, Path hypercallDevice) throws HypercallException {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), errno);
        // ioctl is variadic: its third argument is the first variadic one.
        ioctl = linker.downcallHandle(libc.find("ioctl").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), errno, Linker.Option.firstVariadicArg(2));
        MethodHandle mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), errno);
        MethodHandle madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), errno);
        munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        try {
            privcmdFd = (int) open.invokeExact(callState, arena.allocateFrom(privcmd.toString()), O_RDWR | O_CLOEXEC);
            if (privcmdFd < 0) throw fail("open(" + privcmd + ")");
            int fd = (int) open.invokeExact(callState, arena.allocateFrom(hypercallDevice.toString()), O_RDWR | O_CLOEXEC);
            MemorySegment addr;
            if (fd >= 0) {
                addr = (MemorySegment) mmap.invokeExact(callState, MemorySegment.NULL, PAGE, PROT_READ_WRITE, MAP_SHARED, fd, 0L);
            } else if (errno() == ENOENT) {
                addr = (MemorySegment) mmap.invokeExact(callState, MemorySegment.NULL, PAGE, PROT_READ_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0L);
                if (addr.address() != -1L) {
                    int rc = (int) madvise.invokeExact(callState, addr, PAGE, MADV_DONTFORK);
                    if (rc < 0) throw fail("madvise(MADV_DONTFORK)");
                }
            } else {
                throw fail("open(" + hypercallDevice + ")");
            }
            bufferFd = fd;
            if (addr.address() == -1L) throw fail("mmap of a hypercall buffer page");
            page = addr.reinterpret(PAGE);
            page.fill((byte) 0); // touch: the page must be present before Xen writes through it
        } catch (HypercallException e) {
            arena.close();
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw new HypercallException("privcmd setup", t);
        }
    }

    /** Opens {@code /dev/xen/privcmd} and maps a buffer page from {@code /dev/xen/hypercall}. */
    public static PrivcmdTransport open(Path privcmd, Path hypercallDevice) throws HypercallException {
        return new PrivcmdTransport(privcmd, hypercallDevice);
    }

    public static PrivcmdTransport openDefault() throws HypercallException {
        return open(Path.of("/dev/xen/privcmd"), Path.of("/dev/xen/hypercall"));
    }

    @Override
    public MemorySegment bufferPage() {
        return page;
    }

    @Override
    public long hypercall(long op, long... args) throws HypercallException {
        PrivcmdHypercall call = new PrivcmdHypercall(op, args);
        lock.lock();
        try {
            call.encode(request);
            long rc;
            try {
                // privcmd returns Xen's result as the ioctl's value (long on x86_64, but results here fit in int).
                rc = (int) ioctl.invokeExact(callState, privcmdFd, PrivcmdHypercall.IOCTL_PRIVCMD_HYPERCALL, request);
            } catch (Throwable t) {
                throw new HypercallException("ioctl(IOCTL_PRIVCMD_HYPERCALL, op " + op + ")", t);
            }
            if (rc < 0) throw new HypercallException("hypercall " + op, errno());
            return rc;
        } finally {
            lock.unlock();
        }
    }

    private int errno() {
        return (int) ERRNO.get(callState, 0L);
    }

    private HypercallException fail(String what) {
        return new HypercallException(what, errno());
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (!arena.scope().isAlive()) return;
            int ignored = (int) munmap.invokeExact(page, PAGE);
            if (bufferFd >= 0) ignored = (int) close.invokeExact(bufferFd);
            ignored = (int) close.invokeExact(privcmdFd);
        } catch (Throwable t) {
            // Nothing to act on: the process is giving the descriptors back either way.
        } finally {
            arena.close();
            lock.unlock();
        }
    }
}
