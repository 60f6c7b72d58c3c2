package io.xenops.ctl;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packaged CLI as operators run it: bin/xenopsctl, the jar with lib/ on its manifest class
 * path, Main's exit codes reaching the shell, and the launcher's CDS archive.
 */
class LauncherIT {
    @RegisterExtension
    static WireMockExtension wm = WireMockCli.server();

    private static final Path MODULE = Path.of("").toAbsolutePath();
    private static final Path LAUNCHER = MODULE.resolve("bin/xenopsctl");

    record Run(int exitCode, String out, String err) {
    }

    private static Run launch(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> command = Stream.concat(Stream.of(LAUNCHER.toString()), Stream.of(args)).toList();
        Path out = Files.createTempFile("xenopsctl-out", ".txt");
        Path err = Files.createTempFile("xenopsctl-err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("XENOPS_URL", wm.getRuntimeInfo().getHttpBaseUrl());
        pb.environment().remove("XENOPS_TOKEN");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("xenopsctl did not finish: " + command);
        }
        Run run = new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
        Files.delete(out);
        Files.delete(err);
        return run;
    }

    private static List<Path> archives() throws IOException {
        try (Stream<Path> files = Files.list(MODULE.resolve("target"))) {
            return files.filter(f -> f.getFileName().toString().matches("xenopsctl-\\d+\\.jsa")).toList();
        }
    }

    @Test
    void firstRunBuildsTheArchiveAndLaterRunsLoadTheCliFromIt(@TempDir Path dir) throws Exception {
        for (Path old : archives()) {
            Files.delete(old);
        }
        // Created long ago, so the AGE column (real clock here) reads the same in both runs.
        wm.stubFor(get("/v1/vms").willReturn(okJson(Fixtures.VM_LIST.replace("2026-11-26", "2020-01-01"))));

        Run first = launch(Map.of(), "ls");

        assertThat(first.exitCode()).as(first.toString()).isZero();
        assertThat(first.err()).isEmpty();
        assertThat(first.out()).startsWith("ID               IMAGE           STATE      AGE  PATH\n")
                .contains("\nvm-3f9c2a7b1d04  hello           running  ");
        assertThat(archives()).hasSize(1);
        Path archive = archives().getFirst();
        FileTime made = Files.getLastModifiedTime(archive);

        Path classes = dir.resolve("classes.txt");
        Run second = launch(Map.of("XENOPSCTL_JAVA_OPTS", "-Xlog:class+load:file=" + classes), "ls");

        assertThat(second.exitCode()).isZero();
        assertThat(second.out()).isEqualTo(first.out());
        assertThat(second.err()).isEmpty();
        assertThat(Files.getLastModifiedTime(archive)).isEqualTo(made);
        // Loaded from the dynamic (top) layer: the archive was mapped and the training run covered ls.
        assertThat(Files.readString(classes))
                .containsPattern("io\\.xenops\\.ctl\\.cmd\\.LsCommand source: shared objects file \\(top\\)")
                .containsPattern("io\\.xenops\\.ctl\\.render\\.TableRenderer source: shared objects file \\(top\\)")
                .containsPattern("jdk\\.internal\\.net\\.http\\.HttpClientImpl source: shared objects file");
    }

    @Test
    void exitCodesReachTheShell() throws Exception {
        wm.stubFor(post("/v1/vms").willReturn(aResponse().withStatus(404)
                .withHeader("Content-Type", "application/problem+json").withBody(Fixtures.UNKNOWN_IMAGE)));
        int closedPort = ErrorHandlingTest.closedPort();

        Run apiError = launch(Map.of(), "spawn", "nope");
        Run usage = launch(Map.of(), "spawn", "--wait", "later", "hello");
        Run down = launch(Map.of("XENOPS_URL", "http://127.0.0.1:" + closedPort), "ls");

        assertThat(apiError.exitCode()).isEqualTo(1);
        assertThat(apiError.err()).startsWith("xenopsctl: unknown image 'nope' (404)\n");
        assertThat(usage.exitCode()).isEqualTo(2);
        assertThat(down.exitCode()).isEqualTo(3);
        assertThat(down.err()).isEqualTo("xenopsctl: cannot reach xenopsd at http://127.0.0.1:" + closedPort
                + " (connection refused). Is it running? Start it with ./xenops run\n");
    }

    @Test
    void runsWithoutTheArchiveWhenItIsTurnedOff() throws Exception {
        wm.stubFor(get("/v1/health").willReturn(okJson(Fixtures.HEALTH)));

        Run r = launch(Map.of("XENOPSCTL_CDS", "0"), "health");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("xenopsd ok: driver qemu, accel kvm, version 0.1.0\n");
    }
}
