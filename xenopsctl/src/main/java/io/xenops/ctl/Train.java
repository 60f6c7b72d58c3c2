package io.xenops.ctl;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The training run for the launcher's class-data-sharing archive. A dynamic CDS archive holds the
 * classes its dumping run loaded; for it to speed up every command, that run must go through the
 * real paths: picocli parsing and help, HttpClient, Jackson decoding, both renderers and the error
 * handlers. So this answers canned API responses on a loopback port and runs the CLI against them,
 * in-process, with all output discarded. It never contacts a real daemon.
 */
public final class Train {
    private static final String VM = """
            {"id":"vm-000000000000","image":"hello","state":"running","created_at":"2026-01-01T00:00:00Z",
             "result":"x","timings":{"path":"warm","taken_us":1,"resumed_us":2,"ready_us":3,"result_us":4,
             "responded_us":5},"driver":{"kind":"qemu"}}""";

    private Train() {
    }

    public static void main(String[] args) throws IOException {
        run();
    }

    /** Runs every training command; returns their exit codes, so a test can see that each path ran. */
    static List<Integer> run() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", Train::answer);
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort();
            String id = "vm-000000000000";
            String[][] runs = {
                    {"--help"}, {"spawn", "--help"}, {"spawn", "hello", "--wait", "ready", "--args", "a"},
                    {"ls"}, {"show", id}, {"console", id}, {"destroy", id}, {"pool", "ls"},
                    {"pool", "set", "hello", "2"}, {"images"}, {"health"}, {"version"},
                    {"--json", "ls"}, {"--compact", "spawn", "hello"},
                    {"spawn", "nope"}, {"spawn"}, {"ls", "--url", "http://127.0.0.1:1"}};
            PrintWriter sink = new PrintWriter(Writer.nullWriter());
            List<Integer> codes = new ArrayList<>();
            for (String[] run : runs) {
                codes.add(Cli.run(new XenopsCtl(Map.of("XENOPS_URL", url), Clock.systemUTC()), sink, sink, run));
            }
            return codes;
        } finally {
            server.stop(0);
        }
    }

    private static void answer(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String request = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String method = ex.getRequestMethod();
        int status = 200;
        String type = "application/json";
        String body;
        if (path.equals("/v1/vms") && method.equals("POST") && !request.contains("\"nope\"")) {
            status = 201;
            body = VM;
        } else if (path.equals("/v1/vms") && method.equals("GET")) {
            body = "{\"vms\":[" + VM + "]}";
        } else if (path.endsWith("/console")) {
            type = "text/plain";
            body = "READY hello vm-000000000000\r\n";
        } else if (path.startsWith("/v1/vms/") && method.equals("DELETE")) {
            status = 204;
            body = "";
        } else if (path.startsWith("/v1/vms/")) {
            body = VM;
        } else if (path.equals("/v1/pools")) {
            body = "{\"pools\":[{\"image\":\"hello\",\"target\":2,\"ready\":1,\"building\":1,\"spawned_warm\":1,"
                    + "\"spawned_cold\":0,\"build_failures\":0,\"last_error\":null}]}";
        } else if (path.startsWith("/v1/pools/")) {
            body = "{\"image\":\"hello\",\"target\":2,\"ready\":1,\"building\":1}";
        } else if (path.equals("/v1/images")) {
            body = "{\"images\":[{\"name\":\"hello\",\"version\":\"1\",\"digest\":\"sha256:00\",\"memory_mib\":4,"
                    + "\"vcpus\":1,\"boot_modes\":[\"pvh\"],\"size_bytes\":4096}]}";
        } else if (path.equals("/v1/health")) {
            body = "{\"status\":\"ok\",\"driver\":\"qemu\",\"accel\":\"kvm\",\"version\":\"1\"}";
        } else {
            status = 404;
            type = "application/problem+json";
            body = "{\"type\":\"urn:xenops:problem:not-found\",\"title\":\"Not found\",\"status\":404,"
                    + "\"detail\":\"no such thing\",\"request_id\":\"r\"}";
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, status == 204 ? -1 : bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
