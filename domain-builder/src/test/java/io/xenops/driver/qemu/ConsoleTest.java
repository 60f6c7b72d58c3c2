package io.xenops.driver.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The console against an in-test peer playing QEMU's serial socket. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConsoleTest {
    @TempDir
    Path dir;

    @Test
    void aFloodingGuestCostsBoundedMemory() throws Exception {
        Path sock = dir.resolve("console.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            Console console = new Console(Console.open(sock), "flood", 4096, 1024);
            List<String> lines = new CopyOnWriteArrayList<>();
            CountDownLatch eof = new CountDownLatch(1);
            console.start((line, t) -> lines.add(line), eof::countDown);
            try (SocketChannel peer = server.accept(); OutputStream out = Channels.newOutputStream(peer)) {
                byte[] junk = new byte[64 * 1024];
                java.util.Arrays.fill(junk, (byte) 'x');
                for (int i = 0; i < 320; i++) out.write(junk); // 20 MiB without a newline
                out.write("\nREADY hello v\n".getBytes(StandardCharsets.US_ASCII));
            }
            assertThat(eof.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(lines).hasSize(2);
            assertThat(lines.get(0)).hasSize(1024);
            assertThat(lines.get(1)).isEqualTo("READY hello v");
            assertThat(console.tail()).hasSize(4096).endsWith("x\nREADY hello v\n");
            console.close();
        }
    }

    @Test
    void sendsLinesInOrderAndFailsQueuedOnesOnClose() throws Exception {
        Path sock = dir.resolve("c2.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            Console console = new Console(Console.open(sock), "order", 4096, 1024);
            console.start((line, t) -> { }, () -> { });
            try (SocketChannel peer = server.accept(); InputStream in = Channels.newInputStream(peer)) {
                for (int i = 0; i < 100; i++) console.send("PING t" + i);
                console.send("PING last").get(10, TimeUnit.SECONDS);
                StringBuilder sb = new StringBuilder();
                while (!sb.toString().endsWith("PING last\n")) {
                    byte[] b = new byte[4096];
                    int n = in.read(b);
                    sb.append(new String(b, 0, n, StandardCharsets.US_ASCII));
                }
                String[] ls = sb.toString().split("\n");
                for (int i = 0; i < 100; i++) assertThat(ls[i]).isEqualTo("PING t" + i);
                console.close();
                assertThat(console.send("PING closed")).failsWithin(5, TimeUnit.SECONDS);
            }
        }
    }
}
