package io.xenops.daemon.log;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class JsonFormatterTest {
    @Test
    void leadingPairsBecomeFieldsAndTheRestIsTheMessage() throws Exception {
        LogRecord r = new LogRecord(Level.INFO, "request_id={0} vm={1} path=warm spawned image \"hello\"\nsecond line");
        r.setParameters(new Object[] {"ab-1", "vm-0123456789ab"});
        r.setLoggerName("xenops.vm");
        String line = new JsonFormatter().format(r);
        assertThat(line).endsWith("\n").doesNotContain("\nsecond"); // one record, one line
        JsonNode n = new ObjectMapper().readTree(line);
        assertThat(n.get("request_id").asText()).isEqualTo("ab-1");
        assertThat(n.get("vm").asText()).isEqualTo("vm-0123456789ab");
        assertThat(n.get("path").asText()).isEqualTo("warm");
        assertThat(n.get("msg").asText()).isEqualTo("spawned image \"hello\"\nsecond line");
        assertThat(n.get("level").asText()).isEqualTo("INFO");
    }
}
