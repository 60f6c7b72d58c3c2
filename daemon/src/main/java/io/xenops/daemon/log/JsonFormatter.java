package io.xenops.daemon.log;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One JSON object per line, for log shippers. {@code key=value} pairs at the start of a message
 * ({@code request_id=... vm=...}) become fields of their own, so a request can be followed from the API
 * through the VM service to the driver by filtering on one field.
 */
public final class JsonFormatter extends Formatter {
    private static final Pattern PAIR = Pattern.compile("\\G([a-z_]+)=(\\S+)\\s*");
    private final JsonFactory factory = new JsonFactory();

    @Override
    public String format(LogRecord r) {
        StringWriter out = new StringWriter(200);
        try (JsonGenerator g = factory.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("ts", Instant.ofEpochMilli(r.getMillis()).toString());
            g.writeStringField("level", r.getLevel().getName());
            g.writeStringField("logger", r.getLoggerName());
            String msg = formatMessage(r);
            Matcher m = PAIR.matcher(msg);
            int end = 0;
            while (m.find()) {
                g.writeStringField(m.group(1), m.group(2));
                end = m.end();
            }
            g.writeStringField("msg", msg.substring(end));
            if (r.getThrown() != null) {
                StringWriter sw = new StringWriter();
                r.getThrown().printStackTrace(new PrintWriter(sw));
                g.writeStringField("error", sw.toString());
            }
            g.writeEndObject();
        } catch (IOException e) {
            return "{\"level\":\"SEVERE\",\"msg\":\"log formatting failed\"}\n";
        }
        return out.append('\n').toString();
    }
}
