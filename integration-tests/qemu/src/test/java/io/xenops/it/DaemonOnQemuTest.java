package io.xenops.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The first slice end to end: the built xenopsd as a process, one real QEMU per VM running the real
 * unikernel, driven over HTTP. Each test owns a fresh state directory and checks that nothing it made is
 * left behind.
 */
class DaemonOnQemuTest {
    private static final Duration FILL = Duration.ofSeconds(60);
    private final ObjectMapper json = new ObjectMapper();
    private OwnedState owned;
    private Path state;

    @BeforeAll
    static void built() {
        DaemonProcess.requireBuilt();
    }

    @BeforeEach
    void setUp() throws Exception {
        owned = OwnedState.fresh("xoit-");
        state = owned.dir();
    }

    @AfterEach
    void tearDown() throws Exception {
        owned.close();
    }

    @Test
    void warmSpawnIsRunningAndReadyThenDestroyLeavesNothing() throws Exception {
        DaemonProcess d = owned.daemon("--pool", "hello=2");
        DaemonProcess.eventually(FILL, () -> d.poolReady("hello") == 2);

        JsonNode vm = d.json("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\"}", 201);
        String id = vm.get("id").asText();
        assertThat(vm.get("state").asText()).isEqualTo("running");
        assertThat(vm.at("/timings/path").asText()).isEqualTo("warm");
        long resumed = vm.at("/timings/resumed_us").asLong(-1);
        long ready = vm.at("/timings/ready_us").asLong(-1);
        assertThat(resumed).isBetween(0L, 1_000_000L);
        assertThat(ready).isBetween(resumed, 5_000_000L);
        assertThat(Qemus.mentioning(id)).as("one QEMU process for the VM").hasSize(1);

        String console = d.call("GET", "/v1/vms/" + id + "/console", null).body();
        assertThat(console).contains("READY hello " + id);

        assertThat(d.json("GET", "/v1/vms", null, 200).get("vms").findValuesAsText("id")).contains(id);
        assertThat(d.call("DELETE", "/v1/vms/" + id, null).statusCode()).isEqualTo(204);
        assertThat(d.call("GET", "/v1/vms/" + id, null).statusCode()).isEqualTo(404);
        owned.assertNothingLeftFor(id);

        // The pool refilled in the background, and the spawned VM was not one of its members any more.
        DaemonProcess.eventually(FILL, () -> d.poolReady("hello") == 2);
        assertThat(d.json("GET", "/v1/pools/hello", null, 200).get("spawned_warm").asInt()).isEqualTo(1);
    }

    @Test
    void argsReachTheGuestAndItsResultComesBack() throws Exception {
        DaemonProcess d = owned.daemon("--pool", "hello=1,sha256=1");
        DaemonProcess.eventually(FILL, () -> d.poolReady("hello") == 1 && d.poolReady("sha256") == 1);
        JsonNode vm = d.json("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\",\"args\":\"world\"}", 201);
        assertThat(vm.get("result").asText()).isEqualTo("hello, world");
        assertThat(vm.at("/timings/result_us").asLong(-1)).isGreaterThanOrEqualTo(0);
        JsonNode sha = d.json("POST", "/v1/vms", "{\"image\":\"sha256\",\"wait\":\"ready\",\"args\":\"abc\"}", 201);
        assertThat(sha.get("result").asText()).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        for (JsonNode v : List.of(vm, sha)) d.call("DELETE", "/v1/vms/" + v.get("id").asText(), null);
    }

    @Test
    void anInvocationComputesInAFreshVmAndLeavesNothing() throws Exception {
        DaemonProcess d = owned.daemon("--pool", "sha256=1,hello=0");
        DaemonProcess.eventually(FILL, () -> d.poolReady("sha256") == 1);
        JsonNode inv = d.json("POST", "/v1/invocations", "{\"image\":\"sha256\",\"input\":\"xenops\"}", 200);
        // sha256("xenops"), computed by the guest with integer arithmetic only.
        assertThat(inv.get("output").asText()).isEqualTo(sha256Hex("xenops"));
        assertThat(inv.at("/timings/path").asText()).isEqualTo("warm");
        String vm = inv.get("vm").asText();
        owned.assertNothingLeftFor(vm);
        // The pool refills for the next caller.
        DaemonProcess.eventually(FILL, () -> d.poolReady("sha256") == 1);
    }

    private static String sha256Hex(String s) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(s.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    }

    @Test
    void anEmptyPoolTakesTheColdPath() throws Exception {
        DaemonProcess d = owned.daemon("--pool", "*=0");
        JsonNode vm = d.json("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\"}", 201);
        assertThat(vm.at("/timings/path").asText()).isEqualTo("cold");
        String id = vm.get("id").asText();
        assertThat(d.call("GET", "/v1/vms/" + id + "/console", null).body()).contains("READY hello " + id);
        assertThat(d.json("GET", "/v1/pools/hello", null, 200).get("spawned_cold").asInt()).isEqualTo(1);
        d.call("DELETE", "/v1/vms/" + id, null);
        owned.assertNothingLeftFor(id);
    }

    @Test
    void badRequestsAreClearProblemsAndCreateNothing() throws Exception {
        DaemonProcess d = owned.daemon("--pool", "*=0", "--cold-spawn", "false");
        record Case(String method, String path, String body, int status, String type) {}
        for (Case c : List.of(
                new Case("POST", "/v1/vms", "{\"image\":\"nope\"}", 404, "unknown-image"),
                new Case("POST", "/v1/vms", "{not json", 400, "invalid-request"),
                new Case("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"later\"}", 400, "invalid-request"),
                new Case("POST", "/v1/vms", "{\"image\":\"hello\"}", 503, "capacity-exhausted"),
                new Case("GET", "/v1/vms/vm-ffffffffffff", null, 404, "not-found"),
                new Case("DELETE", "/v1/vms/../../etc", null, 404, "not-found"))) {
            HttpResponse<String> r = d.call(c.method(), c.path(), c.body());
            assertThat(r.statusCode()).as(c + " " + r.body()).isEqualTo(c.status());
            assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(json.readTree(r.body()).get("type").asText()).isEqualTo("urn:xenops:problem:" + c.type());
        }
        assertThat(Qemus.mentioning(state.toString())).isEmpty();
    }

    @Test
    void afterKill9TheDaemonReadoptsPooledAndRunningVmsAndLeaksNothing() throws Exception {
        DaemonProcess first = owned.daemon("--pool", "hello=2");
        DaemonProcess.eventually(FILL, () -> first.poolReady("hello") == 2);
        String running = first.json("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\"}", 201).get("id").asText();
        DaemonProcess.eventually(FILL, () -> first.poolReady("hello") == 2);
        Set<String> pooledBefore = owned.withRole("POOLED");
        assertThat(pooledBefore).hasSize(2);
        Set<Long> qemusBefore = owned.qemuPids();
        assertThat(qemusBefore).hasSize(3);

        first.kill9();
        // The VMs outlive the daemon: they are in their own sessions.
        assertThat(owned.qemuPids()).isEqualTo(qemusBefore);

        DaemonProcess second = owned.daemon("--pool", "hello=2");
        JsonNode vm = second.json("GET", "/v1/vms/" + running, null, 200);
        assertThat(vm.get("state").asText()).isEqualTo("running");
        assertThat(second.call("GET", "/v1/vms/" + running + "/console", null).body()).contains("READY hello " + running);
        assertThat(second.poolReady("hello")).isEqualTo(2);
        assertThat(owned.withRole("POOLED")).isEqualTo(pooledBefore);
        assertThat(owned.qemuPids()).as("no VM rebuilt, none lost").isEqualTo(qemusBefore);

        // The adopted pool members still work: a warm spawn resumes one of them and it answers.
        JsonNode spawned = second.json("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\",\"args\":\"again\"}", 201);
        assertThat(pooledBefore).contains(spawned.get("id").asText());
        assertThat(spawned.at("/timings/path").asText()).isEqualTo("warm");
        assertThat(spawned.get("result").asText()).isEqualTo("hello, again");

        // And the adopted running VM can be destroyed cleanly.
        assertThat(second.call("DELETE", "/v1/vms/" + running, null).statusCode()).isEqualTo(204);
        owned.assertNothingLeftFor(running);
        second.call("DELETE", "/v1/vms/" + spawned.get("id").asText(), null);
        owned.assertNothingLeftFor(spawned.get("id").asText());
    }

    @Test
    void aHalfMadeVmIsCleanedAtStart() throws Exception {
        DaemonProcess first = owned.daemon("--pool", "hello=1");
        DaemonProcess.eventually(FILL, () -> first.poolReady("hello") == 1);
        String pooled = owned.withRole("POOLED").iterator().next();
        first.kill9();
        // Make the record say the crash happened mid-build.
        List<Path> recs = DaemonProcess.recordFiles(state, pooled);
        assertThat(recs).hasSize(1);
        Path rec = recs.get(0);
        Files.writeString(rec, Files.readString(rec).replace("\"POOLED\"", "\"BUILDING\""));
        DaemonProcess second = owned.daemon("--pool", "hello=0");
        owned.assertNothingLeftFor(pooled);
        assertThat(second.poolReady("hello")).isZero();
        assertThat(Qemus.mentioning(state.toString())).isEmpty();
    }

    @Test
    void settingThePoolTargetToZeroDestroysItsVms() throws Exception {
        DaemonProcess d = owned.daemon("--pool", "hello=2");
        DaemonProcess.eventually(FILL, () -> d.poolReady("hello") == 2);
        assertThat(d.json("PUT", "/v1/pools/hello", "{\"target\":0}", 200).get("target").asInt()).isZero();
        DaemonProcess.eventually(Duration.ofSeconds(10), () -> Qemus.mentioning(state.toString()).isEmpty());
        // The record goes right after the domain: wait for it rather than race it.
        DaemonProcess.eventually(Duration.ofSeconds(10), () -> {
            try (Stream<Path> s = Files.list(state.resolve("vms"))) {
                return s.findAny().isEmpty();
            } catch (java.io.IOException e) {
                return false;
            }
        });
    }
}
