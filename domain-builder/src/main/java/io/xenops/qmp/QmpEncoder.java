package io.xenops.qmp;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Commands to bytes: {@code {"execute":"cont","id":"7"}} plus a newline. The newline is not required by
 * QMP but makes the stream readable in a trace and costs nothing.
 *
 * <p>Thread-safe: it holds no per-call state.
 */
public final class QmpEncoder {
    private final ObjectMapper mapper;

    public QmpEncoder(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /**
     * @param command the QMP command name, e.g. {@code cont}
     * @param arguments a JSON object, or null for none
     * @param id echoed back in the reply, or null to send none (the reply then cannot be matched)
     */
    public byte[] encode(String command, JsonNode arguments, String id) {
        if (command == null || command.isEmpty()) throw new IllegalArgumentException("command must not be empty");
        if (arguments != null && !arguments.isObject()) {
            throw new IllegalArgumentException("QMP arguments must be a JSON object: " + arguments);
        }
        if (arguments == null && isPlain(command) && (id == null || isPlain(id))) {
            // The request path's commands (cont, stop) carry no arguments: skip the generator.
            String s = id == null ? "{\"execute\":\"" + command + "\"}\n"
                    : "{\"execute\":\"" + command + "\",\"id\":\"" + id + "\"}\n";
            return s.getBytes(StandardCharsets.US_ASCII);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
        try (JsonGenerator g = mapper.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("execute", command);
            if (arguments != null) {
                g.writeFieldName("arguments");
                mapper.writeTree(g, arguments);
            }
            if (id != null) g.writeStringField("id", id);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode QMP command " + command, e); // in-memory: cannot happen
        }
        out.write('\n');
        return out.toByteArray();
    }

    /** Needs no JSON escaping: QMP command names and our ids are letters, digits, '-', '_' and '.'. */
    private static boolean isPlain(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
            if (!ok) return false;
        }
        return true;
    }
}
