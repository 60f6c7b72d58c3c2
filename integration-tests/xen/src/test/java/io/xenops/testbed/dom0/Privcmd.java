package io.xenops.testbed.dom0;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Hypercalls from Java through Linux's /dev/xen/privcmd with the FFM API: the smallest binding that
 * proves the testbed's privcmd works (the daemon's Xen driver brings the real bindings).
 */
final class Privcmd implements AutoCloseable {

    /** _IOC(_IOC_NONE, 'P', 0, sizeof(struct privcmd_hypercall)) with the struct's 48 bytes. */
    static final long IOCTL_PRIVCMD_HYPERCALL = 0x305000L;
    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 0x80000;

    /** struct privcmd_hypercall { __u64 op; __u64 arg[5]; } */
    static final StructLayout HYPERCALL = MemoryLayout.structLayout(
            JAVA_LONG.withName("op"), MemoryLayout.sequenceLayout(5, JAVA_LONG).withName("arg"));

    /** Raised when a libc call fails; carries errno. */
    static final class ErrnoException extends IOException {
        private static final long serialVersionUID = 1L;
        final int errno;

        ErrnoException(String call, int errno) {
            super(call + " failed, errno " + errno);
            this.errno = errno;
        }
    }

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private final Arena arena = Arena.ofConfined();
    private final MethodHandle ioctl;
    private final MethodHandle close;
    private final MemorySegment callState = arena.allocate(CALL_STATE);
    private final int fd;

    Privcmd(String device) throws IOException {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), errno);
        // ioctl is variadic: the third argument is the first variadic one.
        ioctl = linker.downcallHandle(libc.find("ioctl").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), errno, Linker.Option.firstVariadicArg(2));
        close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        try {
            fd = (int) open.invokeExact(callState, arena.allocateFrom(device), O_RDWR | O_CLOEXEC);
        } catch (Throwable t) {
            throw new IOException("open(" + device + ")", t);
        }
        if (fd < 0) {
            throw new ErrnoException("open(" + device + ")", (int) ERRNO.get(callState, 0L));
        }
    }

    /**
     * Issues hypercall {@code op}; returns Xen's (non-negative) result. A negative Xen result reaches
     * userspace as ioctl's -1 with errno = -result.
     */
    long hypercall(long op, long... args) throws IOException {
        if (args.length > 5) {
            throw new IllegalArgumentException("at most 5 hypercall arguments");
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment h = call.allocate(HYPERCALL);
            h.set(JAVA_LONG, 0, op);
            for (int i = 0; i < args.length; i++) {
                h.set(JAVA_LONG, 8 + 8L * i, args[i]);
            }
            int rc;
            try {
                rc = (int) ioctl.invokeExact(callState, fd, IOCTL_PRIVCMD_HYPERCALL, h);
            } catch (Throwable t) {
                throw new IOException("ioctl(IOCTL_PRIVCMD_HYPERCALL)", t);
            }
            if (rc < 0) {
                throw new ErrnoException("hypercall " + op, (int) ERRNO.get(callState, 0L));
            }
            return rc;
        }
    }

    /** Memory for hypercall buffers, valid until close. */
    Arena arena() {
        return arena;
    }

    @Override
    public void close() {
        try {
            int ignored = (int) close.invokeExact(fd);
        } catch (Throwable t) {
            // Closing a privcmd fd cannot fail in a way a test could act on.
        }
        arena.close();
    }
}
