package io.xenops.guest.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.xenops.qmp.QmpDecoder;
import io.xenops.qmp.QmpMessage;
import io.xenops.qmp.QmpProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Hostile bytes through {@link QmpDecoder}. QEMU is a separate process the guest can influence (and crash), so
 * the decoder must turn anything it gets into messages or one {@link QmpProtocolException}: no other
 * exception, no buffer beyond its line limit, and, once failed, failed for good.
 * Seeded ({@code -Dxenops.fuzz.seed}); {@code -Dxenops.fuzz.count} streams per property (default 20,000).
 */
class QmpDecoderFuzzTest {
    // Fixed by default so CI runs the inputs that were verified; -Dxenops.fuzz.seed=random explores new ones.
    static final long SEED = "random".equals(System.getProperty("xenops.fuzz.seed")) ? System.nanoTime()
            : Long.getLong("xenops.fuzz.seed", 20261127L);
    static final int COUNT = Integer.getInteger("xenops.fuzz.count", 20_000);
    static final int MAX_LINE = 4096;
    static final ObjectMapper MAPPER = new ObjectMapper();
    static final String[] VALID = {
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}, \"capabilities\": [\"oob\"]}}",
        "{\"return\": {}}", "{\"return\": {}, \"id\": \"c1\"}", "{\"return\": [{\"x\": 1}], \"id\": 7}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, \"id\": \"c2\"}",
        "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 5}, \"event\": \"STOP\"}",
        "{\"timestamp\": {\"seconds\": -1, \"microseconds\": -1}, \"event\": \"RESUME\", \"data\": {}}",
        "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}}",
    };

    @Test
    void randomStreamsYieldMessagesOrOneProtocolErrorAndStayBounded() {
        Random rnd = new Random(SEED);
        System.out.println("QmpDecoderFuzzTest seed=" + SEED + " streams=" + COUNT);
        int failed = 0;
        long messages = 0;
        for (int i = 0; i < COUNT; i++) {
            byte[] stream = hostileStream(rnd);
            QmpDecoder dec = new QmpDecoder(MAPPER, MAX_LINE);
            List<QmpMessage> out = new ArrayList<>();
            QmpProtocolException first = null;
            int pos = 0;
            while (pos < stream.length) {
                int n = Math.min(stream.length - pos, 1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 9000));
                ByteBuffer chunk = rnd.nextBoolean() ? ByteBuffer.wrap(stream, pos, n)
                        : ByteBuffer.allocateDirect(n).put(stream, pos, n).flip(); // no backing array: the copy path
                pos += n;
                try {
                    dec.decode(chunk, out::add);
                } catch (QmpProtocolException e) {
                    if (first != null) assertThat(e).as("after a failure the same failure, stream %d", i).isSameAs(first);
                    first = e;
                } catch (RuntimeException e) {
                    throw new AssertionError("decoder threw " + e + " on stream " + i + ": " + show(stream), e);
                }
                // +1: a CR still held before its LF.
                assertThat(dec.buffered()).as("bytes held, stream %d", i).isLessThanOrEqualTo(MAX_LINE + 1);
            }
            if (first != null) {
                failed++;
                QmpProtocolException f = first;
                try {
                    dec.decode(ByteBuffer.wrap("{\"return\": {}}\r\n".getBytes(StandardCharsets.US_ASCII)), out::add);
                    throw new AssertionError("a failed decoder accepted more input, stream " + i);
                } catch (QmpProtocolException e) {
                    assertThat(e).isSameAs(f);
                }
            }
            messages += out.size();
            for (QmpMessage m : out) assertThat(m).isNotNull();
        }
        System.out.println("QmpDecoderFuzzTest: " + COUNT + " streams, " + failed + " refused, " + messages + " messages decoded");
        assertThat(failed).as("the generator must produce refusals").isGreaterThan(COUNT / 10);
        assertThat(messages).as("the generator must produce messages").isGreaterThan(COUNT / 10);
    }

    /** Valid traffic cut at every kind of boundary decodes to exactly what it decodes to whole. */
    @Test
    void fragmentationNeverChangesTheResult() throws Exception {
        Random rnd = new Random(SEED ^ 3);
        for (int i = 0; i < COUNT; i++) {
            StringBuilder s = new StringBuilder();
            int n = 1 + rnd.nextInt(10);
            for (int k = 0; k < n; k++) s.append(VALID[rnd.nextInt(VALID.length)]).append(rnd.nextBoolean() ? "\r\n" : "\n");
            byte[] bytes = s.toString().getBytes(StandardCharsets.UTF_8);
            List<QmpMessage> whole = new ArrayList<>();
            new QmpDecoder(MAPPER, MAX_LINE).decode(ByteBuffer.wrap(bytes), whole::add);
            List<QmpMessage> pieces = new ArrayList<>();
            QmpDecoder dec = new QmpDecoder(MAPPER, MAX_LINE);
            int pos = 0;
            while (pos < bytes.length) {
                int len = Math.min(bytes.length - pos, 1 + rnd.nextInt(40));
                dec.decode(ByteBuffer.wrap(bytes, pos, len), pieces::add);
                pos += len;
            }
            assertThat(pieces).as("stream %s", s).hasSize(n).isEqualTo(whole);
            assertThat(dec.buffered()).isZero();
        }
    }

    /** A peer that never sends a newline is cut off at the limit, not buffered forever. */
    @Test
    void anEndlessLineIsRefusedAtTheLimit() {
        QmpDecoder dec = new QmpDecoder(MAPPER, MAX_LINE);
        byte[] chunk = new byte[1000];
        java.util.Arrays.fill(chunk, (byte) ' ');
        chunk[0] = '{';
        long fed = 0;
        try {
            for (int i = 0; i < 100_000; i++) {
                dec.decode(ByteBuffer.wrap(chunk), m -> { });
                fed += chunk.length;
                assertThat(dec.buffered()).isLessThanOrEqualTo(MAX_LINE + 1);
            }
            throw new AssertionError("100 MB without a newline were accepted");
        } catch (QmpProtocolException e) {
            assertThat(fed).isLessThanOrEqualTo(MAX_LINE + 1);
            assertThat(e.getMessage()).contains("longer than");
        }
    }

    static byte[] hostileStream(Random rnd) {
        StringBuilder s = new StringBuilder();
        int parts = 1 + rnd.nextInt(6);
        for (int i = 0; i < parts; i++) {
            String v = VALID[rnd.nextInt(VALID.length)];
            s.append(switch (rnd.nextInt(14)) {
                case 0, 1, 2 -> v;
                case 3 -> v.substring(0, rnd.nextInt(v.length())); // truncated
                case 4 -> flip(rnd, v);
                case 5 -> "[".repeat(1 + rnd.nextInt(5000)) + "]".repeat(rnd.nextInt(5000)); // deep nesting
                case 6 -> "{\"return\": " + "{\"a\":".repeat(1 + rnd.nextInt(3000)) + "1" + "}".repeat(rnd.nextInt(3000)) + "}";
                case 7 -> "{\"return\": \"" + "x".repeat(rnd.nextInt(2 * MAX_LINE)) + "\"}"; // at and over the limit
                case 8 -> "{\"return\": " + "9".repeat(1 + rnd.nextInt(3000)) + "}"; // a number longer than any
                case 9 -> new String[] {"null", "[]", "\"QMP\"", "42", "{}", "{\"QMP\": 1}", "{\"error\": {}}",
                    "{\"event\": 5}", "{\"event\": \"X\"}", "{\"event\": \"X\", \"timestamp\": {\"seconds\": \"a\"}}",
                    "{\"event\": \"X\", \"timestamp\": {\"seconds\": 1e400, \"microseconds\": 1}}",
                    "{\"return\": {}} {\"return\": {}}", "{\"return\": {},}", "{\"return\": {}, \"return\": 1}",
                    "{\"error\": {\"class\": 1, \"desc\": []}}", "{\"id\": \"x\"}"}[rnd.nextInt(16)];
                case 10 -> new String(randomBytes(rnd, rnd.nextInt(300)), StandardCharsets.ISO_8859_1);
                case 11 -> "{\"return\": \"\\ud800\\udc00\\ud800\", \"id\": \"\\u0000\"}";
                case 12 -> "   \t ";
                default -> "\u00ef\u00bb\u00bf" + v; // a UTF-8 BOM, as ISO-8859-1 chars
            });
            s.append(switch (rnd.nextInt(5)) { case 0 -> "\n"; case 1 -> ""; case 2 -> "\r"; default -> "\r\n"; });
        }
        return s.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    static String flip(Random rnd, String v) {
        char[] c = v.toCharArray();
        for (int k = 0; k < 1 + rnd.nextInt(3); k++) c[rnd.nextInt(c.length)] = (char) rnd.nextInt(256);
        return new String(c);
    }

    static byte[] randomBytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    static String show(byte[] b) {
        String s = new String(b, 0, Math.min(200, b.length), StandardCharsets.ISO_8859_1);
        return s.replace("\r", "\\r").replace("\n", "\\n") + (b.length > 200 ? "...(" + b.length + " bytes)" : "");
    }
}
