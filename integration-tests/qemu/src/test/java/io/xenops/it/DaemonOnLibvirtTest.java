package io.xenops.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.xenops.driver.libvirt.Libvirtd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The same daemon, API and warm pool on a host that libvirt manages: a real libvirtd (started by the shared
 * fixture, as on these machines there is no systemd) running the real unikernel under its QEMU driver.
 */
class DaemonOnLibvirtTest {
    private static Libvirtd libvirtd;
    private static Path state;
    private static DaemonProcess daemon;

    @BeforeAll
    static void start() throws Exception {
        DaemonProcess.requireBuilt();
        state = Files.createTempDirectory(Path.of("/tmp"), "xolv-");
        libvirtd = Libvirtd.start(state.resolveSibling(state.getFileName() + "-libvirt-logs"), "xenops-");
        daemon = new DaemonProcess(state, List.of("--driver", "libvirt", "--libvirt-uri", Libvirtd.URI,
                "--pool", "hello=1,sha256=0", "--boot-timeout-ms", "60000")).start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) {
            // Leave nothing in libvirt: empty the pool, then stop the daemon.
            try {
                daemon.call("PUT", "/v1/pools/hello", "{\"target\":0}");
                DaemonProcess.eventually(Duration.ofSeconds(30), () -> daemon.poolReady("hello") == 0);
            } finally {
                daemon.stop();
            }
        }
        if (libvirtd != null) libvirtd.close();
    }

    @Test
    void aWarmSpawnThroughLibvirtAnswersWithItsResultAndDestroyLeavesNothing() throws Exception {
        DaemonProcess.eventually(Duration.ofSeconds(120), () -> daemon.poolReady("hello") == 1);
        assertThat(daemon.json("GET", "/v1/health", null, 200).get("driver").asText()).isEqualTo("libvirt");
        JsonNode vm = daemon.json("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\",\"args\":\"libvirt\"}", 201);
        String id = vm.get("id").asText();
        assertThat(vm.at("/timings/path").asText()).isEqualTo("warm");
        assertThat(vm.get("result").asText()).isEqualTo("hello, libvirt");
        assertThat(daemon.call("GET", "/v1/vms/" + id + "/console", null).body()).contains("READY hello " + id);
        assertThat(daemon.call("DELETE", "/v1/vms/" + id, null).statusCode()).isEqualTo(204);
        DaemonProcess.eventually(Duration.ofSeconds(30), () -> Qemus.mentioning(id).isEmpty());
        DaemonProcess.eventually(Duration.ofSeconds(10), () -> DaemonProcess.recordFiles(state, id).isEmpty());
        assertThat(DaemonProcess.recordFiles(state, id)).isEmpty();
    }
}
