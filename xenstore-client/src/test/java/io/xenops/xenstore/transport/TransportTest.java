package io.xenops.xenstore.transport;

import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.server.XenStoreServer;
import io.xenops.xenstore.wire.Frame;
import io.xenops.xenstore.wire.FrameDecoder;
import io.xenops.xenstore.wire.FrameEncoder;
import io.xenops.xenstore.wire.Limits;
import io.xenops.xenstore.wire.MessageType;
import io.xenops.xenstore.wire.Payloads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(30)
class TransportTest {

    @TempDir
    Path dir;

    @Test
    void unixSocketIsDetectedAndCarriesTheProtocol() throws Exception {
        Path socket = dir.resolve("socket");
        try (XenStoreServer server = new XenStoreServer(); Closeable l = server.listen(socket)) {
            Transport t = Transports.open(socket);
            assertThat(t).isInstanceOf(UnixSocketTransport.class);
            try (XenStoreClient xs = XenStoreClient.open(t)) {
                xs.blocking().write("/via/socket", "yes");
                assertThat(xs.blocking().readString("/via/socket")).isEqualTo("yes");
            }
            try (XenStoreClient xs = XenStoreClient.open(Transports.openDefault(Map.of("XENSTORED_PATH", socket.toString())))) {
                assertThat(xs.blocking().readString("/via/socket")).isEqualTo("yes");
            }
        }
        assertThat(socket).doesNotExist();
    }

    @Test
    void connectingToAMissingSocketSaysWhere() {
        assertThatThrownBy(() -> UnixSocketTransport.connect(dir.resolve("nope")))
                .isInstanceOf(IOException.class).hasMessageContaining("nope");
    }

    /**
     * The xenbus device is a file read and written with plain reads and writes. A FIFO opened
     * read-write loops our own frames back, which is enough to prove framing over a FileChannel
     * and one message per write.
     */
    @Test
    void deviceFileTransportCarriesFramesOnePerWrite() throws Exception {
        Path fifo = dir.resolve("xenbus");
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        try (Transport t = Transports.open(fifo)) {
            assertThat(t).isInstanceOf(XenbusDeviceTransport.class);
            assertThat(t.describe()).isEqualTo("xenbus:" + fifo);
            Frame a = new Frame(MessageType.READ, 1, 0, Payloads.nulTerminated("/a"));
            Frame b = new Frame(MessageType.WRITE, 2, 0, Payloads.nulTerminated("/b", "v"));
            t.write(List.of(ByteBuffer.wrap(FrameEncoder.encodeUnchecked(a)), ByteBuffer.wrap(FrameEncoder.encodeUnchecked(b))));
            FrameDecoder d = new FrameDecoder(Limits.standard());
            ByteBuffer buf = ByteBuffer.allocate(4096);
            java.util.List<Frame> got = new java.util.ArrayList<>();
            while (got.size() < 2) {
                buf.clear();
                assertThat(t.read(buf)).isPositive();
                buf.flip();
                Frame f;
                while ((f = d.next(buf)) != null) {
                    got.add(f);
                }
            }
            assertThat(got).containsExactly(a, b);
        }
    }

    @Test
    void closingWakesABlockedReader() throws Exception {
        InMemoryTransport[] pair = InMemoryTransport.pair("t");
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                assertThat(pair[0].read(ByteBuffer.allocate(10))).isEqualTo(-1);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(50);
        pair[0].close();
        assertThat(reader.join(java.time.Duration.ofSeconds(5))).isTrue();
        assertThatThrownBy(() -> pair[1].write(List.of(ByteBuffer.allocate(1)))).isInstanceOf(IOException.class);
    }

    @Test
    void inMemoryPipeDeliversInOrderAcrossPartialReads() throws Exception {
        InMemoryTransport[] pair = InMemoryTransport.pair("t");
        byte[] data = new byte[10_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        pair[0].write(List.of(ByteBuffer.wrap(data, 0, 6000), ByteBuffer.wrap(data, 6000, 4000)));
        ByteBuffer got = ByteBuffer.allocate(data.length);
        ByteBuffer small = ByteBuffer.allocate(777);
        while (got.hasRemaining()) {
            small.clear();
            int n = pair[1].read(small);
            assertThat(n).isPositive();
            small.flip();
            got.put(small);
        }
        assertThat(got.array()).isEqualTo(data);
    }

    @Test
    void noXenStoreAnywhereIsAClearError() {
        if (Transports.DEFAULT_SOCKETS.stream().anyMatch(Files::exists) || Files.exists(XenbusDeviceTransport.DEFAULT_DEVICE)) {
            return; // On a Xen host the default is found instead; the other tests cover opening.
        }
        assertThatThrownBy(() -> Transports.openDefault(Map.of())).isInstanceOf(IOException.class)
                .hasMessageContaining("is this a Xen dom0");
    }
}
