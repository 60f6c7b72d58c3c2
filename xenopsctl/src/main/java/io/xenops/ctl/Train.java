package io.xenops.ctl;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.xenops.xenstore.server.XenStoreServer;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The training run for the launcher's class-data-sharing archive. A dynamic CDS archive holds the
 * classes its dumping run loaded; for it to speed up every command, that run must go through the
 * real paths: picocli parsing and help, HttpClient, Jackson decoding, both renderers and the error
 * handlers. So this answers canned API responses on a loopback port and runs the CLI against them,
 * in-process, with all output discarded. The xenstore commands run against the library's in-process
 * XenStore server on a temporary socket. It never contacts a real daemon or a real xenstored.
 */
public final class Train {
    private static final String VM = """
            {"id":"vm-000000000000","image":"hello","state":"running","created_at":"2026-01-01T00:00:00Z",
             "result":"x","timings":{"path":"warm","taken_us":1,"resumed_us":2,"ready_us":3,"result_us":4,
             "responded_us":5},"driver":{"kind":"qemu"}}""";

    private static final String IMAGE = "{\"name\":\"hello\",\"version\":\"1\",\"digest\":\"sha256:00\","
            + "\"memory_mib\":4,\"vcpus\":1,\"boot_modes\":[\"pvh\"],\"size_bytes\":4096}";

    private static String task(String id, String kind, String state, String result) {
        return "{\"id\":\"" + id + "\",\"kind\":\"" + kind + "\",\"subject\":\"hello\",\"state\":\"" + state
                + "\",\"progress\":" + (state.equals("running") ? "0.5" : "1") + ",\"result\":" + result
                + ",\"created_at\":\"2026-01-01T00:00:00Z\",\"finished_at\":null}";
    }

    private Train() {
    }

    public static void main(String[] args) throws IOException {
        run();
    }

    /** Runs every training command; returns their exit codes, so a test can see that each path ran. */
    static List<Integer> run() throws IOException {
        Path dir = Files.createTempDirectory("xenopsctl-train");
        Path socket = dir.resolve("xenstored.sock");
        XenStoreServer xenstored = new XenStoreServer();
        Closeable listening = xenstored.listen(socket);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", Train::answer);
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort();
            String id = "vm-000000000000";
            String xs = socket.toString();
            String[][] runs = {
                    {"--help"}, {"spawn", "--help"}, {"spawn", "hello", "--wait", "ready", "--args", "a"},
                    {"ls"}, {"show", id}, {"console", id}, {"destroy", id}, {"pool", "ls"},
                    {"pool", "set", "hello", "2"}, {"images"}, {"health"}, {"version"},
                    {"--json", "ls"}, {"--compact", "spawn", "hello"},
                    {"invoke", "hello", "--input", "a"}, {"image", "ls"}, {"image", "inspect", "hello"},
                    {"image", "import", "--kernel", "k.elf", "--manifest", "m.json"},
                    {"image", "pull", "localhost:5000/hello:1"}, {"image", "push", "hello", "localhost:5000/hello:1"},
                    {"image", "rm", "hello"}, {"image", "gc", "--budget", "1G"},
                    {"xenstore", "--socket", xs, "write", "/train/a", "1"},
                    {"xenstore", "--socket", xs, "read", "/train/a"},
                    {"xenstore", "--socket", xs, "ls", "-l", "/train"},
                    {"xenstore", "--socket", xs, "perms", "/train/a", "n0", "r1"},
                    {"xenstore", "--socket", xs, "perms", "/train/a"},
                    {"xenstore", "--socket", xs, "watch", "/train", "--count", "1"},
                    {"xenstore", "--socket", xs, "rm", "/train"},
                    {"spawn", "nope"}, {"spawn"}, {"ls", "--url", "http://127.0.0.1:1"},
                    {"xenstore", "--socket", xs, "read", "/train/a"},
                    {"xenstore", "--socket", dir.resolve("none").toString(), "read", "/"}};
            PrintWriter sink = new PrintWriter(Writer.nullWriter());
            List<Integer> codes = new ArrayList<>();
            for (String[] run : runs) {
                codes.add(Cli.run(new XenopsCtl(Map.of("XENOPS_URL", url), Clock.systemUTC()), sink, sink, run));
            }
            return codes;
        } finally {
            server.stop(0);
            listening.close();
            xenstored.close();
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
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
            body = "{\"images\":[" + IMAGE + "]}";
        } else if (path.equals("/v1/invocations")) {
            body = "{\"image\":\"hello\",\"vm\":\"vm-000000000000\",\"output\":\"A\",\"timings\":{\"path\":\"warm\"}}";
        } else if (path.equals("/v1/images/imports")) {
            status = 201;
            body = IMAGE;
        } else if (path.equals("/v1/images/pulls")) {
            status = 202;
            body = task("task-000000000001", "image-pull", "running", "null");
        } else if (path.equals("/v1/images/hello/push")) {
            status = 202;
            body = task("task-000000000002", "image-push", "running", "null");
        } else if (path.equals("/v1/tasks/task-000000000001")) {
            body = task("task-000000000001", "image-pull", "succeeded", IMAGE);
        } else if (path.equals("/v1/tasks/task-000000000002")) {
            body = task("task-000000000002", "image-push", "succeeded", "{\"reference\":\"localhost:5000/hello:1\","
                    + "\"manifest_digest\":\"sha256:01\",\"bytes_uploaded\":4096}");
        } else if (path.equals("/v1/images/gc")) {
            body = "{\"evicted\":[\"old\"],\"blobs_removed\":2,\"bytes_freed\":4096,\"bytes_used\":8192,"
                    + "\"budget_bytes\":1073741824,\"within_budget\":true}";
        } else if (path.equals("/v1/images/hello") && method.equals("DELETE")) {
            status = 204;
            body = "";
        } else if (path.equals("/v1/images/hello")) {
            body = IMAGE;
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
