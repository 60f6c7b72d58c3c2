package io.xenops.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class QmpDecoderTest {
    private static final String STREAM = String.join("\r\n",
            "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": \"Debian\"}, \"capabilities\": [\"oob\"]}}",
            "{\"return\": {}, \"id\": \"1\"}",
            "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 123456}, \"event\": \"RESUME\"}",
            "{\"id\": \"2\", \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nope has not been found\"}}",
            "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}, \"id\": \"3\"}",
            "{\"timestamp\": {\"seconds\": 1700000001, \"microseconds\": 5}, \"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}}",
            "") ;

    private final ObjectMapper mapper = new ObjectMapper();

    private static List<QmpMessage> feed(QmpDecoder d, byte[] bytes, int... chunkSizes) throws QmpProtocolException {
        List<QmpMessage> out = new ArrayList<>();
        int i = 0;
        int c = 0;
        while (i < bytes.length) {
            int n = Math.min(chunkSizes[c++ % chunkSizes.length], bytes.length - i);
            d.decode(ByteBuffer.wrap(bytes, i, n), out::add);
            i += n;
        }
        return out;
    }

    @Test
    void decodesEveryMessageShape() throws Exception {
        List<QmpMessage> m = feed(new QmpDecoder(mapper), STREAM.getBytes(StandardCharsets.UTF_8), Integer.MAX_VALUE);
        assertThat(m).hasSize(6);
        assertThat(m.get(0)).isInstanceOfSatisfying(QmpMessage.Greeting.class, g -> assertThat(g.version()).isEqualTo("7.2.22"));
        assertThat(m.get(1)).isInstanceOfSatisfying(QmpMessage.Return.class, r -> {
            assertThat(r.id()).isEqualTo("1");
            assertThat(r.value().isObject()).isTrue();
        });
        assertThat(m.get(2)).isInstanceOfSatisfying(QmpMessage.Event.class, e -> {
            assertThat(e.name()).isEqualTo("RESUME");
            assertThat(e.data().isEmpty()).isTrue();
            assertThat(e.timestamp()).isEqualTo(Instant.ofEpochSecond(1700000000, 123456000));
        });
        assertThat(m.get(3)).isEqualTo(new QmpMessage.Error("2", "CommandNotFound", "The command nope has not been found"));
        assertThat(m.get(4)).isInstanceOfSatisfying(QmpMessage.Return.class,
                r -> assertThat(r.value().get("status").asText()).isEqualTo("running"));
        assertThat(m.get(5)).isInstanceOfSatisfying(QmpMessage.Event.class,
                e -> assertThat(e.data().get("reason").asText()).isEqualTo("guest-shutdown"));
    }

    @Test
    void byteByByteGivesTheSameMessages() throws Exception {
        byte[] bytes = STREAM.getBytes(StandardCharsets.UTF_8);
        List<QmpMessage> whole = feed(new QmpDecoder(mapper), bytes, Integer.MAX_VALUE);
        QmpDecoder d = new QmpDecoder(mapper);
        List<QmpMessage> single = feed(d, bytes, 1);
        assertThat(single).isEqualTo(whole);
        assertThat(d.buffered()).isZero();
    }

    @Test
    void randomFragmentationGivesTheSameMessages() throws Exception {
        byte[] bytes = STREAM.getBytes(StandardCharsets.UTF_8);
        List<QmpMessage> whole = feed(new QmpDecoder(mapper), bytes, Integer.MAX_VALUE);
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            int[] sizes = random.ints(16, 1, 40).toArray();
            assertThat(feed(new QmpDecoder(mapper), bytes, sizes)).isEqualTo(whole);
        }
    }

    @Test
    void keepsAnUnfinishedMessageForTheNextRead() throws Exception {
        QmpDecoder d = new QmpDecoder(mapper);
        List<QmpMessage> out = new ArrayList<>();
        d.decode(ByteBuffer.wrap("{\"return\": {}, \"id\"".getBytes(StandardCharsets.UTF_8)), out::add);
        assertThat(out).isEmpty();
        assertThat(d.buffered()).isPositive();
        d.decode(ByteBuffer.wrap(": \"9\"}\r\n".getBytes(StandardCharsets.UTF_8)), out::add);
        assertThat(out).containsExactly(new QmpMessage.Return("9", mapper.createObjectNode()));
    }

    @Test
    void toleratesBlankLinesAndNumericIds() throws Exception {
        List<QmpMessage> out = feed(new QmpDecoder(mapper), "\r\n  \n{\"return\": 5, \"id\": 17}\n".getBytes(StandardCharsets.UTF_8), 3);
        assertThat(out).singleElement().isEqualTo(new QmpMessage.Return("17", mapper.getNodeFactory().numberNode(5)));
    }

    @Test
    void rejectsGarbageAndStaysFailed() {
        QmpDecoder d = new QmpDecoder(mapper);
        assertThatThrownBy(() -> d.decode(ByteBuffer.wrap("\u0000\u0001garbage\n".getBytes(StandardCharsets.UTF_8)), m -> {}))
                .isInstanceOf(QmpProtocolException.class).hasMessageContaining("malformed");
        // Framing is lost: even a good message afterwards is refused.
        assertThatThrownBy(() -> d.decode(ByteBuffer.wrap("{\"return\": {}}\n".getBytes(StandardCharsets.UTF_8)), m -> {}))
                .isInstanceOf(QmpProtocolException.class);
    }

    @Test
    void rejectsJsonThatIsNotQmp() {
        for (String bad : List.of(
                "[1, 2]", "42", "\"text\"", "{\"hello\": 1}",
                "{\"error\": {\"class\": \"GenericError\"}}",
                "{\"error\": \"oops\"}",
                "{\"event\": \"STOP\"}",
                "{\"event\": 5, \"timestamp\": {\"seconds\": 1, \"microseconds\": 1}}",
                "{\"QMP\": 1}",
                "{\"return\": {}} {\"return\": {}}",
                "{\"return\": {}")) {
            QmpDecoder d = new QmpDecoder(mapper);
            assertThatThrownBy(() -> d.decode(ByteBuffer.wrap((bad + "\n").getBytes(StandardCharsets.UTF_8)), m -> {}))
                    .as(bad).isInstanceOf(QmpProtocolException.class);
        }
    }

    @Test
    void rejectsAnOverlongLineWithoutBufferingIt() {
        QmpDecoder d = new QmpDecoder(mapper, 1024);
        byte[] chunk = new byte[100];
        java.util.Arrays.fill(chunk, (byte) 'a');
        assertThatThrownBy(() -> {
            for (int i = 0; i < 1000; i++) {
                d.decode(ByteBuffer.wrap(chunk), m -> {});
                assertThat(d.buffered()).isLessThanOrEqualTo(1025);
            }
        }).isInstanceOf(QmpProtocolException.class).hasMessageContaining("longer than 1024");
    }

    @Test
    void rejectsAnOverlongLineArrivingInOneRead() {
        QmpDecoder d = new QmpDecoder(mapper, 64);
        String big = "{\"return\": \"" + "x".repeat(100) + "\"}\n";
        assertThatThrownBy(() -> d.decode(ByteBuffer.wrap(big.getBytes(StandardCharsets.UTF_8)), m -> {}))
                .isInstanceOf(QmpProtocolException.class);
    }

    @Test
    void acceptsALineExactlyAtTheLimit() throws Exception {
        String msg = "{\"return\": \"" + "x".repeat(50) + "\"}";
        QmpDecoder d = new QmpDecoder(mapper, msg.length());
        List<QmpMessage> out = feed(d, (msg + "\r\n").getBytes(StandardCharsets.UTF_8), 7);
        assertThat(out).hasSize(1);
    }

    @Test
    void keepsEventsWhenQemuHadNoClock() throws Exception {
        List<QmpMessage> out = feed(new QmpDecoder(mapper),
                "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": -1, \"microseconds\": -1}}\n".getBytes(StandardCharsets.UTF_8), 5);
        assertThat(out).singleElement().isInstanceOfSatisfying(QmpMessage.Event.class,
                e -> assertThat(e.timestamp()).isEqualTo(Instant.EPOCH));
    }
}
