package io.xenops.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What an operator types: the real xenopsctl launcher against the real daemon on real QEMU. */
class CliOnQemuTest {
    private static final Path CTL = DaemonProcess.ROOT.resolve("xenopsctl/bin/xenopsctl");
    private static Path state;
    private static DaemonProcess daemon;
    private final ObjectMapper json = new ObjectMapper();

    record Run(int code, String out, String err) {}

    @BeforeAll
    static void startDaemon() throws Exception {
        DaemonProcess.requireBuilt();
        if (!Files.isRegularFile(DaemonProcess.ROOT.resolve("xenopsctl/target/xenopsctl.jar"))) {
            throw new AssertionError("xenopsctl is not built: ./xenops build");
        }
        state = Files.createTempDirectory(Path.of("/tmp"), "xocli-");
        daemon = new DaemonProcess(state, List.of("--pool", "hello=1,sha256=0")).start();
        DaemonProcess.eventually(Duration.ofSeconds(60), () -> daemon.poolReady("hello") == 1);
    }

    @AfterAll
    static void stopDaemon() throws Exception {
        if (daemon != null) daemon.stop();
        if (state != null) Qemus.killAll(state.toString());
    }

    private Run ctl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(CTL.toString(), "--url", daemon.url()));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    private static Run run(List<String> cmd) throws Exception {
        Path out = Files.createTempFile("ctl", ".out"), err = Files.createTempFile("ctl", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("xenopsctl " + cmd + " did not finish");
        }
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void spawnConsoleListAndDestroyThroughTheCli() throws Exception {
        Run spawn = ctl("spawn", "hello", "--wait", "ready", "--json");
        assertThat(spawn.code()).as(spawn.err()).isZero();
        JsonNode vm = json.readTree(spawn.out());
        String id = vm.get("id").asText();
        assertThat(vm.get("state").asText()).isEqualTo("running");
        assertThat(vm.at("/timings/ready_us").asLong(-1)).isGreaterThanOrEqualTo(0);

        Run human = ctl("show", id);
        assertThat(human.code()).isZero();
        assertThat(human.out()).contains(id).contains("running");

        Run console = ctl("console", id);
        assertThat(console.code()).isZero();
        assertThat(console.out()).contains("READY hello " + id);

        assertThat(ctl("ls").out()).contains(id);
        Run destroy = ctl("destroy", id);
        assertThat(destroy.code()).as(destroy.err()).isZero();
        DaemonProcess.eventually(Duration.ofSeconds(10), () -> Qemus.mentioning(id).isEmpty());
        assertThat(ctl("ls").out()).doesNotContain(id);
    }

    @Test
    void spawnWithArgsPrintsTheResultAndPoolsCanBeSet() throws Exception {
        Run spawn = ctl("spawn", "hello", "--wait", "ready", "--args", "cli");
        assertThat(spawn.code()).as(spawn.err()).isZero();
        assertThat(spawn.out()).contains("hello, cli");
        Run set = ctl("pool", "set", "sha256", "1");
        assertThat(set.code()).as(set.err()).isZero();
        DaemonProcess.eventually(Duration.ofSeconds(60), () -> daemon.poolReady("sha256") == 1);
        assertThat(ctl("pool", "ls").out()).contains("sha256");
        assertThat(ctl("images").out()).contains("hello").contains("sha256");
    }

    @Test
    void errorsHaveClearMessagesAndExitCodes() throws Exception {
        Run unknown = ctl("spawn", "nope");
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).contains("unknown image").contains("404");
        Run down = run(List.of(CTL.toString(), "--url", "http://127.0.0.1:1", "ls"));
        assertThat(down.code()).isEqualTo(3);
        assertThat(down.err()).contains("cannot reach xenopsd");
    }
}
