package io.xenops.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.xenops.driver.sim.SimDriver;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Regression tests for two FuzzApiTest findings (docs/reliability.md): requests Netty cannot decode must be
 * client errors, answered as problem documents where an answer is possible, and never logged as the daemon's
 * own internal error.
 */
class CodecRefusalsTest {
    private final List<LogRecord> logged = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override public void publish(LogRecord r) { logged.add(r); }
        @Override public void flush() { }
        @Override public void close() { }
    };
    private final Logger api = Logger.getLogger("");

    @BeforeEach
    void listen() { api.addHandler(capture); }

    @AfterEach
    void stopListening() { api.removeHandler(capture); }

    @Test
    void anUnknownHttpVersionIsAProblemDocument() throws Exception {
        try (SimDaemon d = new SimDaemon(Map.of("hello", 0), true, SimDriver.Faults.none(), null, null)) {
            String answer = raw(d, "GET /v1/health HTTP/9.9\r\nHost: x\r\n\r\n");
            // Vert.x writes the status line in the request's version: "HTTP/9.9 400 Bad Request".
            assertThat(answer).as(answer).startsWith("HTTP/9.9 400 ");
            int status = 400;
            assertThat(answer.toLowerCase(java.util.Locale.ROOT)).as(answer).contains("content-type: application/problem+json");
            assertThat(answer).contains("\"status\":" + status);
            assertThat(d.send("GET", "/v1/health", null).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aBadChunkSizeIsAClientErrorNotAnInternalOne() throws Exception {
        try (SimDaemon d = new SimDaemon(Map.of("hello", 0), true, SimDriver.Faults.none(), null, null)) {
            String answer = raw(d, "POST /v1/vms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{\"image\":\"hello\"}\r\n0\r\n\r\n");
            // Either a 400 problem document or the connection closed without one; never a 2xx or 5xx.
            if (!answer.isEmpty()) {
                assertThat(answer).as(answer).startsWith("HTTP/1.1 400");
                assertThat(answer.toLowerCase(java.util.Locale.ROOT)).contains("content-type: application/problem+json");
            }
            assertThat(d.json("GET", "/v1/vms", null, 200).get("vms")).as("no VM made").isEmpty();
            Thread.sleep(300); // the access log line is written when the exchange ends
            for (LogRecord r : logged) {
                if (r.getLoggerName() == null || !r.getLoggerName().startsWith("xenops")) continue;
                String msg = r.getMessage() == null ? "" : r.getParameters() == null ? r.getMessage()
                        : java.text.MessageFormat.format(r.getMessage(), r.getParameters());
                assertThat(r.getLevel().intValue()).as("logged at %s: %s %s", r.getLevel(), msg, r.getThrown())
                        .isLessThan(Level.WARNING.intValue());
                if (msg.contains("POST /v1/vms")) {
                    assertThat(msg).as("access line of the bad request").containsAnyOf("status=400", "status=none");
                }
            }
        }
    }

    /** Writes the bytes, half-closes, and returns whatever the daemon answered before it closed (5 s at most). */
    private static String raw(SimDaemon d, String request) throws Exception {
        int port = Integer.parseInt(d.base.substring(d.base.lastIndexOf(':') + 1));
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) > 0; ) got.write(buf, 0, n);
            } catch (java.net.SocketTimeoutException | java.net.SocketException e) {
                // a kept-alive connection or a reset: what came so far is the answer
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }
}
