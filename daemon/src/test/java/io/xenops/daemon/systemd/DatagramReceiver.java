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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The service manager's end of the notify socket, for tests: a bound AF_UNIX SOCK_DGRAM socket (FFM,
 * since the JDK has no unix datagram channel) that hands back each datagram as text.
 */
final class DatagramReceiver implements AutoCloseable {
    private static final int AF_UNIX = 1, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1, SO_RCVTIMEO = 20;
    private static final int EAGAIN = 11;

    private final Arena arena = Arena.ofShared();
    private final MethodHandle recv;
    private final MethodHandle close;
    private final StructLayout callState = Linker.Option.captureStateLayout();
    private final VarHandle errno = callState.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private final NotifyAddress address;
    private final int fd;

    DatagramReceiver(NotifyAddress address, Duration receiveTimeout) throws IOException {
        this.address = address;
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Linker.Option errnoOpt = Linker.Option.captureCallState("errno");
        MethodHandle socket = linker.downcallHandle(libc.find("socket").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), errnoOpt);
        MethodHandle bind = linker.downcallHandle(libc.find("bind").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), errnoOpt);
        MethodHandle setsockopt = linker.downcallHandle(libc.find("setsockopt").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_INT), errnoOpt);
        recv = linker.downcallHandle(libc.find("recv").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT), errnoOpt);
        close = linker.downcallHandle(libc.find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        try {
            MemorySegment state = arena.allocate(callState);
            fd = (int) socket.invokeExact(state, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) throw new IOException("socket: errno " + errno(state));
            byte[] path = address.sunPath();
            MemorySegment addr = arena.allocate(2 + NotifyAddress.SUN_PATH_MAX, 2);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(path, 0, addr, ValueLayout.JAVA_BYTE, 2, path.length);
            if ((int) bind.invokeExact(state, fd, addr, 2 + path.length) != 0) {
                throw new IOException("bind(" + address + "): errno " + errno(state));
            }
            MemorySegment tv = arena.allocate(16, 8);
            tv.set(ValueLayout.JAVA_LONG, 0, receiveTimeout.toSeconds());
            tv.set(ValueLayout.JAVA_LONG, 8, receiveTimeout.toMillisPart() * 1000L);
            if ((int) setsockopt.invokeExact(state, fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16) != 0) {
                throw new IOException("setsockopt(SO_RCVTIMEO): errno " + errno(state));
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    /** The next datagram, or empty if none arrives within the receive timeout. */
    Optional<String> receive() throws IOException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment state = call.allocate(callState);
            MemorySegment buf = call.allocate(4096);
            long n = (long) recv.invokeExact(state, fd, buf, 4096L, 0);
            if (n < 0) {
                if (errno(state) == EAGAIN) return Optional.empty();
                throw new IOException("recv: errno " + errno(state));
            }
            return Optional.of(new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    private int errno(MemorySegment state) { return (int) errno.get(state, 0L); }

    @Override
    public void close() throws IOException {
        try {
            int ignored = (int) close.invokeExact(fd);
        } catch (Throwable t) {
            throw new IOException(t);
        } finally {
            arena.close();
            if (!address.isAbstract()) Files.deleteIfExists(Path.of(address.name()));
        }
    }
}
