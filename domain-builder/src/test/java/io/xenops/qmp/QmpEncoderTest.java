package io.xenops.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class QmpEncoderTest {
    private final ObjectMapper mapper = new ObjectMapper();
    private final QmpEncoder encoder = new QmpEncoder(mapper);

    @Test
    void encodesACommandAsOneLine() {
        String s = new String(encoder.encode("cont", null, "7"), StandardCharsets.UTF_8);
        assertThat(s).isEqualTo("{\"execute\":\"cont\",\"id\":\"7\"}\n");
    }

    @Test
    void encodesArgumentsAndEscapes() throws Exception {
        JsonNode args = mapper.createObjectNode().put("device", "con\"sole\n").put("n", 3);
        byte[] bytes = encoder.encode("human-monitor-command", args, "x");
        String s = new String(bytes, StandardCharsets.UTF_8);
        assertThat(s.indexOf('\n')).isEqualTo(s.length() - 1); // exactly one line, whatever the arguments hold
        JsonNode back = mapper.readTree(s);
        assertThat(back.get("execute").asText()).isEqualTo("human-monitor-command");
        assertThat(back.get("arguments")).isEqualTo(args);
        assertThat(back.get("id").asText()).isEqualTo("x");
    }

    @Test
    void theFastPathAndTheGeneratorAgree() throws Exception {
        // "cont" takes the string fast path; an id needing escapes forces the generator.
        JsonNode fast = mapper.readTree(encoder.encode("cont", null, "41"));
        JsonNode slow = mapper.readTree(encoder.encode("cont", null, "4\"1"));
        assertThat(fast.get("execute")).isEqualTo(slow.get("execute"));
        assertThat(slow.get("id").asText()).isEqualTo("4\"1");
    }

    @Test
    void omitsAMissingId() {
        assertThat(new String(encoder.encode("stop", null, null), StandardCharsets.UTF_8)).isEqualTo("{\"execute\":\"stop\"}\n");
    }

    @Test
    void refusesNonObjectArgumentsAndEmptyCommands() {
        assertThatThrownBy(() -> encoder.encode("cont", mapper.getNodeFactory().arrayNode(), "1"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> encoder.encode("", null, "1")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void roundTripsThroughTheDecoderShape() throws Exception {
        // What we send is a JSON object QEMU accepts; a reply of the same id decodes to a Return.
        JsonNode sent = mapper.readTree(encoder.encode("query-status", null, "42"));
        JsonNode reply = mapper.createObjectNode().put("id", sent.get("id").asText()).set("return", mapper.createObjectNode());
        assertThat(QmpDecoder.classify(reply)).isEqualTo(new QmpMessage.Return("42", mapper.createObjectNode()));
    }
}
