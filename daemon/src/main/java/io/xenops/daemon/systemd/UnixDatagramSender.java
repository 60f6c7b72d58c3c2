package io.xenops.daemon.systemd;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Sends one datagram to an AF_UNIX SOCK_DGRAM address through libc, with the FFM API: the JDK's
 * {@code SocketChannel} speaks only SOCK_STREAM on unix sockets, and spawning {@code systemd-notify}
 * would make the message come from the wrong PID (systemd checks the sender against {@code NotifyAccess}).
 */
final class UnixDatagramSender {
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    /** Never block the caller (it may be an event loop) on a full receive queue, and never raise SIGPIPE. */
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int SA_FAMILY_BYTES = 2;

    private final MethodHandle socket;
    private final MethodHandle sendto;
    private final MethodHandle close;
    private final StructLayout callState;
    private final VarHandle errno;

    UnixDatagramSender() {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Linker.Option captureErrno = Linker.Option.captureCallState("errno");
        socket = linker.downcallHandle(libc.find("socket").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                captureErrno);
        sendto = linker.downcallHandle(libc.find("sendto").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
                captureErrno);
        close = linker.downcallHandle(libc.find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        callState = Linker.Option.captureStateLayout();
        errno = callState.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    }

    /**
     * One socket per message, as libsystemd's sd_notify does: nothing to keep open or to leak into child
     * processes (QEMU), and the cost is three system calls on a path taken a handful of times.
     */
    void send(NotifyAddress to, byte[] payload) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(callState);
            int fd = (int) socket.invokeExact(state, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) throw new IOException("socket(AF_UNIX, SOCK_DGRAM) failed: errno " + errno(state));
            try {
                byte[] path = to.sunPath();
                MemorySegment addr = arena.allocate(SA_FAMILY_BYTES + NotifyAddress.SUN_PATH_MAX, 2);
                addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
                MemorySegment.copy(path, 0, addr, ValueLayout.JAVA_BYTE, SA_FAMILY_BYTES, path.length);
                MemorySegment buf = arena.allocate(Math.max(1, payload.length));
                MemorySegment.copy(payload, 0, buf, ValueLayout.JAVA_BYTE, 0, payload.length);
                long n = (long) sendto.invokeExact(state, fd, buf, (long) payload.length, MSG_DONTWAIT | MSG_NOSIGNAL,
                        addr, SA_FAMILY_BYTES + path.length);
                if (n < 0) throw new IOException("sendto(" + to + ") failed: errno " + errno(state));
                if (n != payload.length) throw new IOException("sendto(" + to + ") sent " + n + " of " + payload.length + " bytes");
            } finally {
                // A failed close of an unconnected datagram socket loses nothing: the message is sent or not.
                int ignored = (int) close.invokeExact(fd);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("native call failed: " + t, t);
        }
    }

    private int errno(MemorySegment state) { return (int) errno.get(state, 0L); }
}
