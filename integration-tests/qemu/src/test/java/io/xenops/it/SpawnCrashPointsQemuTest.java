package io.xenops.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The daemon SIGKILLed at each named step of a spawn, warm and cold, through its fault-injection seam
 * ({@code --fault STEP:kill}, FaultPoints): not by timing, so every step is hit every run. After a restart
 * without the fault: every QEMU has a record and a domain directory and vice versa, QEMUs = listed VMs +
 * pooled VMs, a bystander pool member of another image is still pooled (nothing lost), a VM the client was
 * told of is listed and running, every listed VM is running and destroyable, and the daemon spawns again.
 * The client of the killed spawn gets an error (connection reset); it can never get a VM that is then gone.
 */
class SpawnCrashPointsQemuTest {
    private static final Duration FILL = Duration.ofSeconds(90);
    private final ObjectMapper json = new ObjectMapper();
    private Path images;
    private OwnedState owned;

    @BeforeAll
    static void built() {
        DaemonProcess.requireBuilt();
    }

    @BeforeEach
    void setUp() throws Exception {
        owned = OwnedState.fresh("xocrash-");
        images = Files.createTempDirectory(Path.of("/tmp"), "xocrash-img-");
        // A second image, hello under another name: its pool member is the bystander that must survive.
        ReliabilityImages.make(images, "other", new byte[0]);
    }

    @AfterEach
    void tearDown() throws Exception {
        owned.close();
    }

    private DaemonProcess daemon(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--images-dir", images.toString()));
        all.addAll(List.of(args));
        return owned.daemon(all.toArray(String[]::new));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "spawn.warm.taken", "spawn.warm.mid-unpause", "spawn.warm.resumed", "spawn.warm.before-response",
        "spawn.cold.before-build", "spawn.cold.recorded", "spawn.cold.created", "spawn.cold.mid-unpause",
        "spawn.cold.after-build", "spawn.cold.before-response"})
    @Timeout(300)
    void theDaemonKilledAtThisStepLeaksNoVmAndLosesNone(String step) throws Exception {
        boolean warm = step.startsWith("spawn.warm.");
        DaemonProcess d = daemon("--pool", (warm ? "hello=1" : "hello=0") + ",other=1", "--fault", step + ":kill");
        DaemonProcess.eventually(FILL, () -> d.poolReady("other") == 1 && (!warm || d.poolReady("hello") == 1));
        Set<String> bystanders = new TreeSet<>();
        owned.records().forEach((id, r) -> { if (r.get("image").asText().equals("other")) bystanders.add(id); });
        assertThat(bystanders).hasSize(1);

        String given = null;
        String clientSaw;
        try {
            HttpResponse<String> r = d.call("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\"}");
            clientSaw = "HTTP " + r.statusCode();
            if (r.statusCode() == 201) given = json.readTree(r.body()).get("id").asText();
            else assertThat(r.statusCode()).as("an answer other than a VM is an error: %s", r.body()).isGreaterThanOrEqualTo(500);
        } catch (java.io.IOException e) {
            clientSaw = "connection error (" + e.getClass().getSimpleName() + ")";
        }
        // The fault fired at exactly this step: the daemon is dead and said where.
        DaemonProcess.eventually(Duration.ofSeconds(30), () -> !d.alive());
        assertThat(d.logText()).contains("FAULT INJECTION: SIGKILL at " + step);
        assertThat(given).as("the daemon died before answering, so no client holds a VM").isNull();
        var recordsAtDeath = owned.records().keySet();
        int qemusAtDeath = owned.qemuPids().size();

        DaemonProcess second = daemon("--pool", "hello=0,other=1");
        DaemonProcess.eventually(FILL, () -> second.poolReady("other") == 1);
        owned.assertOwnedMatchesRunning(Duration.ofSeconds(20));
        Set<String> listed = new TreeSet<>();
        for (JsonNode v : second.json("GET", "/v1/vms", null, 200).get("vms")) {
            listed.add(v.get("id").asText());
            assertThat(v.get("state").asText()).as("listed VM %s", v).isEqualTo("running");
        }
        Set<String> pooled = owned.withRole("POOLED");
        DaemonProcess.eventually(Duration.ofSeconds(20), () -> owned.qemuPids().size() == listed.size() + owned.withRole("POOLED").size());
        assertThat(owned.withRole("POOLED")).as("nothing lost: the bystander is still pooled").containsAll(bystanders);
        for (String id : listed) assertThat(Qemus.mentioning(id)).as("QEMU of listed %s", id).hasSize(1);
        System.out.printf("crash at %-28s client: %-40s at death: %d records, %d QEMUs; after restart: listed %s, pooled %s%n",
                step, clientSaw, recordsAtDeath.size(), qemusAtDeath, listed, pooled);

        // Usable: the listed VMs destroy cleanly, the bystander serves a warm spawn, and a cold spawn works.
        for (String id : listed) {
            assertThat(second.call("DELETE", "/v1/vms/" + id, null).statusCode()).isEqualTo(204);
            owned.assertNothingLeftFor(id);
        }
        JsonNode w = second.json("POST", "/v1/vms", "{\"image\":\"other\",\"wait\":\"ready\"}", 201);
        assertThat(bystanders).contains(w.get("id").asText());
        JsonNode c = second.json("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\"}", 201);
        assertThat(c.at("/timings/path").asText()).isEqualTo("cold");
        for (JsonNode v : List.of(w, c)) assertThat(second.call("DELETE", "/v1/vms/" + v.get("id").asText(), null).statusCode()).isEqualTo(204);
        DaemonProcess.eventually(FILL, () -> second.poolReady("other") == 1);
        owned.assertOwnedMatchesRunning(Duration.ofSeconds(20));
        assertThat(owned.records()).hasSize(1);
    }
}
