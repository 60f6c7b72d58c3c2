package io.xenops.it;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The floor: one paused QEMU driven with the fewest possible bytes over blocking sockets, no daemon, no
 * JSON library. Whatever the daemon adds on top of this is its own overhead.
 */
final class RawQemu implements AutoCloseable {
    private final Process process;
    private final SocketChannel qmp;
    private final SocketChannel console;
    private final ByteBuffer buf = ByteBuffer.allocate(65536);
    private final ByteBuffer cbuf = ByteBuffer.allocate(65536);

    RawQemu(Path dir, Path kernel, String accel, String machine) throws Exception {
        Files.createDirectories(dir);
        Path qsock = dir.resolve("qmp.sock");
        Path csock = dir.resolve("con.sock");
        // The same CPU the driver settles on: plain "host" aborts on kvm-pvm (MSR 0x10a).
        String cpu = accel.equals("kvm") ? "host,-arch-capabilities" : "max";
        process = new ProcessBuilder(List.of("qemu-system-x86_64", "-M", machine, "-no-reboot", "-S", "-nodefaults",
                "-nographic", "-nic", "none", "-m", "8", "-accel", accel, "-cpu", cpu, "-kernel", kernel.toString(),
                "-append", "xenops.id=vm-000000000000",
                "-chardev", "socket,id=con,path=" + csock + ",server=on,wait=off", "-serial", "chardev:con",
                "-qmp", "unix:" + qsock + ",server=on,wait=off"))
                .redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!(Files.exists(qsock) && Files.exists(csock))) {
            if (!process.isAlive() || System.nanoTime() > deadline) throw new IOException("QEMU did not start: " + Files.readString(dir.resolve("qemu.log")));
            Thread.sleep(5);
        }
        qmp = SocketChannel.open(StandardProtocolFamily.UNIX);
        qmp.connect(UnixDomainSocketAddress.of(qsock));
        console = SocketChannel.open(StandardProtocolFamily.UNIX);
        console.connect(UnixDomainSocketAddress.of(csock));
        readQmpUntil("QMP");
        qmpCommand("{\"execute\":\"qmp_capabilities\"}");
        qmpCommand("{\"execute\":\"cont\"}");
        readConsoleUntil("READY ");
        qmpCommand("{\"execute\":\"stop\"}");
    }

    /** Sends one command and returns when its "return" arrives (events in between are skipped). */
    void qmpCommand(String cmd) throws IOException {
        qmp.write(ByteBuffer.wrap((cmd + "\r\n").getBytes(StandardCharsets.US_ASCII)));
        readQmpUntil("\"return\"");
    }

    void send(String line) throws IOException {
        console.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII)));
    }

    void readConsoleUntil(String marker) throws IOException {
        readUntil(console, cbuf, marker);
    }

    private void readQmpUntil(String marker) throws IOException {
        readUntil(qmp, buf, marker);
    }

    private static void readUntil(SocketChannel ch, ByteBuffer b, String marker) throws IOException {
        while (true) {
            String s = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII);
            int i = s.indexOf(marker);
            if (i >= 0) {
                int nl = s.indexOf('\n', i);
                if (nl >= 0) {
                    int consumed = nl + 1;
                    b.flip();
                    b.position(consumed);
                    b.compact();
                    return;
                }
            }
            if (!b.hasRemaining()) b.clear();
            if (ch.read(b) < 0) throw new IOException("EOF before " + marker);
        }
    }

    @Override
    public void close() throws Exception {
        try {
            qmp.close();
            console.close();
        } finally {
            process.destroyForcibly().waitFor();
        }
    }
}
