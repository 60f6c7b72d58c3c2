package io.xenops.testbed.dom0;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs inside dom0: xl creates (paused), unpauses, pauses and destroys a PV and a PVH domain built
 * from the project's own unikernel, and the guest's console (logged by xenconsoled) must show READY.
 * xl only proves the host works here; the daemon's own Xen driver is tested elsewhere.
 */
@Timeout(240)
class XlDomainLifecycleInDom0 {

    /** Under TCG a guest's first lines take a while; this is generous on purpose. */
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Path CONSOLE_LOGS = Path.of("/var/log/xen/console");

    record Result(int exit, String output) {
    }

    @ParameterizedTest(name = "{0} domain from the unikernel: create -p, unpause, READY, pause, destroy")
    @ValueSource(strings = {"pv", "pvh"})
    void lifecycle(String type) throws Exception {
        String property = System.getProperty("xenops.unikernel.hello", "");
        Path kernel = Path.of(property);
        if (property.isBlank() || !Files.isRegularFile(kernel)) {
            fail("the unikernel image is missing at '" + property + "': build it first (the unikernel module builds "
                    + "unikernel/target/images/hello/kernel.elf; mvn -B verify from the root does)");
        }
        String name = "xenops-hello-" + type;
        Path cfg = Files.createTempFile(name, ".cfg");
        Files.writeString(cfg, String.join("\n",
                "name = \"" + name + "\"",
                "type = \"" + type + "\"",
                "kernel = \"" + kernel + "\"",
                "memory = 32",
                "vcpus = 1",
                // Keep a crashed or exited guest around so its state and console can be inspected.
                "on_crash = \"preserve\"",
                "on_poweroff = \"preserve\"",
                ""));
        Path console = CONSOLE_LOGS.resolve("guest-" + name + ".log");
        Files.deleteIfExists(console);
        try {
            long t0 = System.nanoTime();
            Result create = xl("create", "-p", cfg.toString());
            long t1 = System.nanoTime();
            assertThat(create.exit()).as("xl create -p %s (%s):\n%s\n%s", type, kernel, create.output(), xl("dmesg").output())
                    .isZero();
            assertThat(state(name)).as("state after create -p").contains("p");

            Result unpause = xl("unpause", name);
            long t2 = System.nanoTime();
            assertThat(unpause.exit()).as("xl unpause: %s", unpause.output()).isZero();
            long readyAt = awaitReady(name, type, kernel, console);
            // Keep the evidence in the report: what the guest said on its console.
            System.out.println(type + " console log " + console + ":\n" + Files.readString(console, StandardCharsets.ISO_8859_1).strip());
            System.out.printf("%s: xl create -p %d ms, xl unpause %d ms, unpause to READY in console log %d ms%n", type,
                    (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (readyAt - t2) / 1_000_000);

            Result pause = xl("pause", name);
            assertThat(pause.exit()).as("xl pause: %s", pause.output()).isZero();
            assertThat(state(name)).as("state after pause").contains("p");

            Result destroy = xl("destroy", name);
            assertThat(destroy.exit()).as("xl destroy: %s", destroy.output()).isZero();
            Result gone = xl("list", name);
            assertThat(gone.exit()).as("xl list %s after destroy: %s", name, gone.output()).isNotZero();
        } finally {
            xl("destroy", name);
            Files.deleteIfExists(cfg);
        }
    }

    /** Waits for READY in the guest's console log; on timeout fails with everything the unikernel's author needs. */
    private static long awaitReady(String name, String type, Path kernel, Path console) throws Exception {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(console) && Files.readString(console, StandardCharsets.ISO_8859_1).contains("READY")) {
                return System.nanoTime();
            }
            Thread.sleep(20);
        }
        String log = Files.exists(console) ? Files.readString(console, StandardCharsets.ISO_8859_1) : "<no console log file " + console + ">";
        Result list = xl("list", "-v", name);
        String dmesg = xl("dmesg").output().lines().toList().reversed().stream().limit(40).toList().reversed()
                .stream().reduce("", (a, b) -> a + b + "\n");
        fail("the " + type.toUpperCase() + " guest from " + kernel + " printed no READY line within " + READY_TIMEOUT
                + " of xl unpause.\n--- console log " + console + " (" + log.length() + " chars) ---\n" + log
                + "\n--- xl list -v " + name + " ---\n" + list.output() + "\n--- xl dmesg (last 40 lines) ---\n" + dmesg);
        return -1;
    }

    /** The State column of 'xl list NAME', e.g. "--p---" for paused, "r-----" for running. */
    private static String state(String name) throws Exception {
        Result r = xl("list", name);
        assertThat(r.exit()).as("xl list %s: %s", name, r.output()).isZero();
        List<String> lines = r.output().lines().filter(l -> l.startsWith(name + " ")).toList();
        assertThat(lines).as("xl list %s: %s", name, r.output()).hasSize(1);
        String[] cols = lines.getFirst().trim().split("\\s+");
        return cols[4];
    }

    private static Result xl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of("xl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, out + "\n<xl " + String.join(" ", args) + " timed out>");
        }
        return new Result(p.exitValue(), out);
    }
}
