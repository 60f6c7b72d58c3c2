package io.xenops.qmp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Bytes to {@link QmpMessage}s. Feed it whatever the socket returned, in any fragments; it calls the
 * consumer once per complete message.
 *
 * <p>Framing: QMP is formally a JSON text stream, but QEMU ends every message with CRLF and never puts a
 * raw newline inside one (JSON escapes newlines in strings), so the decoder splits on '\n' and parses
 * each line as one JSON object. That lets it bound memory by capping the line length instead of
 * trusting a streaming parser with unbounded input.
 *
 * <p>Errors are final: after the first {@link QmpProtocolException} every later call throws it again,
 * because once framing is lost nothing after it can be trusted.
 *
 * <p>Not thread-safe: one decoder per connection, fed by its reader thread.
 */
public final class QmpDecoder {
    /** Big enough for {@code query-qmp-schema} (about 200 KiB on QEMU 7.2) with room to spare. */
    public static final int DEFAULT_MAX_LINE = 1 << 20;

    private final ObjectReader reader;
    private final int maxLine;
    private byte[] line = new byte[512];
    private int length;
    private QmpProtocolException failure;

    public QmpDecoder(ObjectMapper mapper) {
        this(mapper, DEFAULT_MAX_LINE);
    }

    /** @param maxLine longest message accepted, in bytes, line ending excluded */
    public QmpDecoder(ObjectMapper mapper, int maxLine) {
        if (maxLine < 16) throw new IllegalArgumentException("maxLine too small: " + maxLine);
        // Trailing tokens would mean two messages on one line: not something QEMU does, so reject it.
        this.reader = mapper.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        this.maxLine = maxLine;
    }

    /**
     * Consumes every remaining byte of {@code in}, emitting each complete message in order. Bytes of an
     * unfinished message are kept for the next call.
     */
    public void decode(ByteBuffer in, Consumer<? super QmpMessage> out) throws QmpProtocolException {
        if (failure != null) throw failure;
        try {
            while (in.hasRemaining()) {
                int start = in.position();
                int end = indexOfNewline(in, start, in.limit());
                if (end < 0) {
                    append(in, start, in.limit());
                    in.position(in.limit());
                    return;
                }
                in.position(end + 1);
                QmpMessage message;
                if (length == 0 && in.hasArray()) {
                    // Common case: a whole line inside one read. Parse in place, no copy.
                    checkLength(end - start);
                    message = parseLine(in.array(), in.arrayOffset() + start, end - start);
                } else {
                    append(in, start, end);
                    message = parseLine(line, 0, length);
                    length = 0;
                }
                if (message != null) out.accept(message);
            }
        } catch (QmpProtocolException e) {
            failure = e;
            length = 0;
            line = new byte[0];
            throw e;
        }
    }

    /** Bytes held from an unfinished message; for tests and diagnostics. */
    public int buffered() {
        return length;
    }

    private static int indexOfNewline(ByteBuffer in, int from, int to) {
        for (int i = from; i < to; i++) {
            if (in.get(i) == '\n') return i;
        }
        return -1;
    }

    private void append(ByteBuffer in, int from, int to) throws QmpProtocolException {
        int n = to - from;
        checkLength(length + n);
        if (length + n > line.length) {
            line = Arrays.copyOf(line, Math.min(Math.max(line.length * 2, length + n), maxLine + 1));
        }
        in.get(from, line, length, n);
        length += n;
    }

    private void checkLength(int n) throws QmpProtocolException {
        // +1: the CR of CRLF is part of the line until it is stripped.
        if (n > maxLine + 1) {
            throw new QmpProtocolException("QMP message longer than " + maxLine + " bytes");
        }
    }

    private QmpMessage parseLine(byte[] buf, int off, int len) throws QmpProtocolException {
        int end = off + len;
        while (end > off && isSpace(buf[end - 1])) end--;
        int start = off;
        while (start < end && isSpace(buf[start])) start++;
        if (start == end) return null; // blank lines carry nothing; JSON allows whitespace between values
        JsonNode node;
        try {
            node = reader.readTree(buf, start, end - start);
        } catch (JsonProcessingException e) {
            throw new QmpProtocolException("malformed JSON from QMP peer: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new QmpProtocolException("unreadable QMP message", e);
        }
        return classify(node);
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\r' || b == '\n';
    }

    static QmpMessage classify(JsonNode node) throws QmpProtocolException {
        if (node == null || !node.isObject()) {
            throw new QmpProtocolException("QMP message is not a JSON object: " + abbreviate(node));
        }
        JsonNode qmp = node.get("QMP");
        if (qmp != null) {
            if (!qmp.isObject()) throw new QmpProtocolException("greeting QMP member is not an object");
            return new QmpMessage.Greeting(qmp);
        }
        JsonNode ret = node.get("return");
        if (ret != null) {
            return new QmpMessage.Return(id(node), ret);
        }
        JsonNode error = node.get("error");
        if (error != null) {
            JsonNode cls = error.get("class");
            JsonNode desc = error.get("desc");
            if (!error.isObject() || cls == null || !cls.isTextual() || desc == null || !desc.isTextual()) {
                throw new QmpProtocolException("error reply without class and desc: " + abbreviate(node));
            }
            return new QmpMessage.Error(id(node), cls.asText(), desc.asText());
        }
        JsonNode event = node.get("event");
        if (event != null) {
            if (!event.isTextual()) throw new QmpProtocolException("event name is not a string: " + abbreviate(node));
            JsonNode data = node.get("data");
            if (data == null) data = ((com.fasterxml.jackson.databind.node.ObjectNode) node).objectNode();
            return new QmpMessage.Event(event.asText(), data, timestamp(node));
        }
        throw new QmpProtocolException("unknown QMP message: " + abbreviate(node));
    }

    private static String id(JsonNode node) {
        JsonNode id = node.get("id");
        if (id == null || id.isNull()) return null;
        // QMP echoes any JSON value; we send strings, but keep others comparable as their JSON text.
        return id.isTextual() ? id.asText() : id.toString();
    }

    private static Instant timestamp(JsonNode node) throws QmpProtocolException {
        JsonNode ts = node.get("timestamp");
        if (ts == null || !ts.path("seconds").canConvertToLong() || !ts.path("microseconds").canConvertToLong()
                || !ts.path("seconds").isIntegralNumber() || !ts.path("microseconds").isIntegralNumber()) {
            throw new QmpProtocolException("event without a valid timestamp: " + abbreviate(node));
        }
        long micros = ts.get("microseconds").asLong();
        if (micros < 0 || micros >= 1_000_000) {
            // QEMU sends -1/-1 when the clock failed; keep the event, drop the time.
            return Instant.EPOCH;
        }
        return Instant.ofEpochSecond(ts.get("seconds").asLong(), micros * 1000);
    }

    private static String abbreviate(JsonNode node) {
        String s = String.valueOf(node);
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
