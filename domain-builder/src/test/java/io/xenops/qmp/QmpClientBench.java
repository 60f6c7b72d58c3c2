package io.xenops.qmp;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * The QMP client's own cost, without QEMU: codec nanoseconds per message, and a command round trip
 * against an in-process peer that answers at once (the floor under any QEMU round trip).
 *
 * <pre>
 * java -cp target/classes:target/test-classes:$(cat cp.txt) io.xenops.qmp.QmpClientBench [rounds]
 * </pre>
 */
public final class QmpClientBench {
    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20000;
        ObjectMapper mapper = new ObjectMapper();
        codec(mapper, rounds * 10);
        roundTrip(mapper, rounds);
    }

    private static void codec(ObjectMapper mapper, int n) throws Exception {
        QmpEncoder enc = new QmpEncoder(mapper);
        byte[] reply = "{\"return\": {}, \"id\": \"12345\"}\r\n".getBytes(StandardCharsets.UTF_8);
        QmpDecoder dec = new QmpDecoder(mapper);
        long sink = 0;
        for (int pass = 0; pass < 3; pass++) { // the last pass is the measured one, after JIT warm-up
            long a = System.nanoTime();
            for (int i = 0; i < n; i++) sink += enc.encode("cont", null, Integer.toString(i)).length;
            long b = System.nanoTime();
            for (int i = 0; i < n; i++) {
                dec.decode(ByteBuffer.wrap(reply), m -> { });
            }
            long c = System.nanoTime();
            if (pass == 2) {
                System.out.printf(Locale.ROOT, "encode cont: %.0f ns/msg, decode return: %.0f ns/msg (%d)%n",
                        (b - a) / (double) n, (c - b) / (double) n, sink % 2);
            }
        }
    }

    private static void roundTrip(ObjectMapper mapper, int rounds) throws Exception {
        Path dir = Files.createTempDirectory("qmpb");
        Path sock = dir.resolve("q.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            Thread peer = Thread.ofPlatform().daemon().start(() -> {
                try (SocketChannel c = server.accept()) {
                    OutputStream out = Channels.newOutputStream(c);
                    BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
                    out.write("{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n".getBytes(StandardCharsets.UTF_8));
                    String line;
                    while ((line = in.readLine()) != null) {
                        int i = line.indexOf("\"id\":\"");
                        String id = line.substring(i + 6, line.indexOf('"', i + 6));
                        out.write(("{\"return\": {}, \"id\": \"" + id + "\"}\r\n").getBytes(StandardCharsets.UTF_8));
                    }
                } catch (Exception ignored) {
                    // bench over
                }
            });
            try (QmpClient client = QmpClient.connect(sock, mapper, e -> { }, Duration.ofSeconds(5)).get()) {
                long[] t = new long[rounds];
                for (int pass = 0; pass < 2; pass++) {
                    for (int i = 0; i < rounds; i++) {
                        long a = System.nanoTime();
                        client.execute("cont").get();
                        t[i] = System.nanoTime() - a;
                    }
                }
                Arrays.sort(t);
                System.out.printf(Locale.ROOT, "execute(cont) against an instant peer: min %.1f us, median %.1f us, p90 %.1f us, p99 %.1f us (n=%d)%n",
                        t[0] / 1e3, t[rounds / 2] / 1e3, t[rounds * 9 / 10] / 1e3, t[rounds * 99 / 100] / 1e3, rounds);
            }
            peer.interrupt();
        } finally {
            Files.deleteIfExists(sock);
            Files.deleteIfExists(dir);
        }
    }
}
