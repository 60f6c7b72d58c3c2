package io.xenops.driver.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console against a socket that plays QEMU's part. */
class GuestConsoleTest {
    @TempDir
    Path dir;

    @Test
    void deliversLinesWritesInOrderAndNoticesTheEnd() throws Exception {
        Path sock = dir.resolve("console.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            GuestConsole console = GuestConsole.connect(sock, "t", 1024);
            SocketChannel qemu = server.accept();
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            CountDownLatch closed = new CountDownLatch(1);
            long before = System.nanoTime();
            console.start(new GuestConsole.Sink() {
                @Override
                public void onLine(String line, long nanoTime) {
                    assertThat(nanoTime).isGreaterThanOrEqualTo(before);
                    lines.add(line);
                }

                @Override
                public void onClosed() {
                    closed.countDown();
                }
            });

            qemu.write(ByteBuffer.wrap("boot banner\r\nREADY hello vm-1\n".getBytes(StandardCharsets.US_ASCII)));
            assertThat(lines.poll(5, TimeUnit.SECONDS)).isEqualTo("boot banner");
            assertThat(lines.poll(5, TimeUnit.SECONDS)).isEqualTo("READY hello vm-1");

            console.send("PING a").get(5, TimeUnit.SECONDS);
            console.send("ARGS b x y").get(5, TimeUnit.SECONDS);
            ByteBuffer in = ByteBuffer.allocate(64);
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (in.position() < "PING a\nARGS b x y\n".length() && System.nanoTime() < deadline) qemu.read(in);
            assertThat(new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII)).isEqualTo("PING a\nARGS b x y\n");
            assertThat(console.tail()).isEqualTo("boot banner\r\nREADY hello vm-1\n");

            qemu.close(); // QEMU went away
            assertThat(closed.await(5, TimeUnit.SECONDS)).isTrue();
            console.close();
            assertThat(console.send("PING late")).failsWithin(Duration.ofSeconds(5));
            assertThat(console.isOpen()).isFalse();
        }
    }
}
