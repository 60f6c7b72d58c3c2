package io.xenops.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution's daemon supervised the way systemd does it: NOTIFY_SOCKET names a datagram socket we
 * listen on, READY=1 must arrive once the API answers, and SIGTERM must end it cleanly with status 0.
 * Runs with the simulated driver, so no hypervisor is needed.
 */
class SupervisionIT {
    private static final Duration START_LIMIT = Duration.ofSeconds(180);
    /** After the API answers, READY=1 may trail it only by the time the daemon takes to send it. */
    private static final Duration READY_AFTER_API = Duration.ofSeconds(15);

    private final Dist dist = Dist.built();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Process daemon;

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    Path tmp;

    @AfterEach
    void killLeftovers() throws Exception {
        if (daemon != null && daemon.isAlive()) {
            daemon.destroyForcibly();
            daemon.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void readyOnceTheApiAnswersAndACleanExitOnSigterm() throws Exception {
        Path stateDir = tmp.resolve("state");
        assertThat(stateDir.toString().length()).as("state_dir limit").isLessThanOrEqualTo(60);
        Path log = tmp.resolve("xenopsd.log");
        Map<String, String> env = Dist.scrubbedEnv(tmp.resolve("tools"), tmp);
        env.put("NOTIFY_SOCKET", tmp.resolve("notify").toString());

        List<String> notes = new ArrayList<>();
        try (NotifyListener systemd = new NotifyListener(tmp.resolve("notify"), Duration.ofMillis(200))) {
            ProcessBuilder pb = new ProcessBuilder(dist.path("bin/xenopsd").toString(), "--driver", "sim",
                    "--listen", "127.0.0.1:0", "--state-dir", stateDir.toString(), "--pool", "*=1")
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().clear();
            pb.environment().putAll(env);
            daemon = pb.start();

            // The launcher execs: the process systemd started is the bundled JVM (NotifyAccess=main relies on it).
            String command = awaitCommand(daemon);
            assertThat(Path.of(command)).as("main process").isEqualTo(dist.path("runtime/bin/java").toRealPath());

            long deadline = System.nanoTime() + START_LIMIT.toNanos();
            long apiUpAt = 0;
            int port = -1;
            while (!notes.contains("READY=1")) {
                assertThat(daemon.isAlive()).as("xenopsd exited early:\n%s", tail(log)).isTrue();
                assertThat(System.nanoTime()).as("no READY=1 within %s:\n%s", START_LIMIT, tail(log)).isLessThan(deadline);
                systemd.poll().ifPresent(m -> notes.addAll(m.lines().toList()));
                if (apiUpAt == 0 && (port = port(stateDir)) > 0 && get(port, "/v1/health").isPresent()) apiUpAt = System.nanoTime();
                if (apiUpAt != 0 && !notes.contains("READY=1")) {
                    assertThat(Duration.ofNanos(System.nanoTime() - apiUpAt))
                            .as("the API answers but xenopsd sent no READY=1 to NOTIFY_SOCKET: Main must call "
                                    + "SdNotify.ready(...) once the API listens (io.xenops.daemon.systemd); got %s", notes)
                            .isLessThan(READY_AFTER_API);
                }
            }
            assertThat(notes).anyMatch(n -> n.startsWith("STATUS="));

            // READY=1 means the API answers now; and the launcher's default brought in the bundled images.
            port = port(stateDir);
            assertThat(get(port, "/v1/health")).as("API right after READY=1").map(HttpResponse::statusCode).contains(200);
            assertThat(get(port, "/v1/images")).map(HttpResponse::body).hasValueSatisfying(b -> assertThat(b).contains("hello"));

            // The distribution's CLI talks to the distribution's daemon.
            Dist.Run ctl = Dist.run(env, tmp.resolve("ctl.log"), 120, dist.path("bin/xenopsctl").toString(),
                    "--url", "http://127.0.0.1:" + port, "images");
            assertThat(ctl.exit()).as(ctl.out()).isZero();
            assertThat(ctl.out()).contains("hello");

            daemon.destroy(); // SIGTERM, as systemctl stop sends it
            assertThat(daemon.waitFor(60, TimeUnit.SECONDS)).as("stopped within 60 s of SIGTERM:\n%s", tail(log)).isTrue();
            assertThat(daemon.exitValue())
                    .as("exit status after SIGTERM (143 means the JVM's default handler ran: install StopSignals)\n%s", tail(log))
                    .isZero();
            long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!notes.contains("STOPPING=1") && System.nanoTime() < until) systemd.poll().ifPresent(m -> notes.addAll(m.lines().toList()));
            assertThat(notes).as("STOPPING=1 told systemd the stop was on purpose").contains("STOPPING=1");
        }
    }

    private static String awaitCommand(Process p) throws InterruptedException {
        // Right after fork the child may still be bash (before exec); give it a moment to become the JVM.
        String last = "";
        for (int i = 0; i < 100; i++) {
            last = p.info().command().orElse("");
            if (last.endsWith("/java")) return last;
            Thread.sleep(50);
        }
        return last;
    }

    private static int port(Path stateDir) {
        try {
            Path f = stateDir.resolve("xenopsd.port");
            return Files.exists(f) ? Integer.parseInt(Files.readString(f).trim()) : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    private Optional<HttpResponse<String>> get(int port, String path) {
        try {
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? Optional.of(r) : Optional.empty();
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (Exception e) {
            return "(no log: " + e + ")";
        }
    }
}
