package io.xenops.deploy;

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
 * What systemd does with {@code NOTIFY_SOCKET}: a bound AF_UNIX datagram socket that receives the
 * daemon's {@code READY=1}, {@code STATUS=}, {@code STOPPING=1}. FFM, because the JDK has no unix
 * datagram channel (and socat would be one more host package).
 */
final class NotifyListener implements AutoCloseable {
    private static final int AF_UNIX = 1, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000, SOL_SOCKET = 1, SO_RCVTIMEO = 20;
    private static final int EAGAIN = 11, EINTR = 4;

    private final Arena arena = Arena.ofShared();
    private final StructLayout callState = Linker.Option.captureStateLayout();
    private final VarHandle errno = callState.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private final MethodHandle recv;
    private final MethodHandle close;
    private final Path path;
    private final int fd;

    NotifyListener(Path path, Duration pollInterval) throws IOException {
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length > 107) throw new IOException("socket path too long for sun_path: " + path);
        this.path = path;
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Linker.Option errnoOpt = Linker.Option.captureCallState("errno");
        ValueLayout i = ValueLayout.JAVA_INT;
        MethodHandle socket = linker.downcallHandle(libc.find("socket").orElseThrow(), FunctionDescriptor.of(i, i, i, i), errnoOpt);
        MethodHandle bind = linker.downcallHandle(libc.find("bind").orElseThrow(),
                FunctionDescriptor.of(i, i, ValueLayout.ADDRESS, i), errnoOpt);
        MethodHandle setsockopt = linker.downcallHandle(libc.find("setsockopt").orElseThrow(),
                FunctionDescriptor.of(i, i, i, i, ValueLayout.ADDRESS, i), errnoOpt);
        recv = linker.downcallHandle(libc.find("recv").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, i, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, i), errnoOpt);
        close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(i, i));
        try {
            MemorySegment state = arena.allocate(callState);
            fd = (int) socket.invokeExact(state, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) throw new IOException("socket: errno " + errno(state));
            MemorySegment addr = arena.allocate(110, 2);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
            if ((int) bind.invokeExact(state, fd, addr, 2 + name.length + 1) != 0) throw new IOException("bind " + path + ": errno " + errno(state));
            MemorySegment tv = arena.allocate(16, 8);
            tv.set(ValueLayout.JAVA_LONG, 0, pollInterval.toSeconds());
            tv.set(ValueLayout.JAVA_LONG, 8, pollInterval.toMillisPart() * 1000L);
            if ((int) setsockopt.invokeExact(state, fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16) != 0) {
                throw new IOException("setsockopt SO_RCVTIMEO: errno " + errno(state));
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    /** The next datagram, or empty when none came within the poll interval. */
    Optional<String> poll() throws IOException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment state = call.allocate(callState);
            MemorySegment buf = call.allocate(4096);
            long n = (long) recv.invokeExact(state, fd, buf, 4096L, 0);
            if (n < 0) {
                int e = errno(state);
                if (e == EAGAIN || e == EINTR) return Optional.empty();
                throw new IOException("recv: errno " + e);
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
            Files.deleteIfExists(path);
        }
    }
}
