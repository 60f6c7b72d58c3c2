package io.xenops.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.xenops.driver.sim.SimDriver;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The daemon over real HTTP, with the in-process simulated hypervisor: the API contract, pools, spawn paths
 * and error mapping. The same behaviour on real QEMU is proven in integration-tests/qemu.
 */
class DaemonSimTest {
    private SimDaemon d;
    private SimDriver sim;
    private Path state;

    private void start(Map<String, Integer> pools, boolean cold, SimDriver.Faults faults) throws Exception {
        d = new SimDaemon(pools, cold, faults, null, null);
        sim = d.sim;
        state = d.state;
    }

    @AfterEach
    void tearDown() {
        if (d != null) d.close();
    }

    private HttpResponse<String> send(String method, String path, String body, String contentType) throws Exception {
        return d.send(method, path, body, contentType);
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return d.send("POST", path, body);
    }

    private JsonNode body(HttpResponse<String> r) throws Exception { return d.json.readTree(r.body()); }

    private JsonNode pool() throws Exception { return body(send("GET", "/v1/pools/hello", null, null)); }

    private static void eventually(BooleanSupplier cond) throws InterruptedException { SimDaemon.eventually(cond); }

    private boolean poolReady(int n) { return d.poolReady("hello") == n; }

    @Test
    void warmSpawnTakesFromThePoolAndThePoolRefills() throws Exception {
        start(Map.of("hello", 2), true, SimDriver.Faults.none());
        eventually(() -> poolReady(2));
        HttpResponse<String> r = post("/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        JsonNode vm = body(r);
        assertThat(vm.get("id").asText()).matches("vm-[0-9a-f]{12}");
        assertThat(vm.get("state").asText()).isEqualTo("running");
        assertThat(vm.at("/timings/path").asText()).isEqualTo("warm");
        assertThat(vm.at("/timings/resumed_us").asLong()).isGreaterThanOrEqualTo(0);
        assertThat(vm.at("/timings/ready_us").asLong()).isGreaterThanOrEqualTo(vm.at("/timings/resumed_us").asLong());
        assertThat(r.headers().firstValue("Location")).hasValue("/v1/vms/" + vm.get("id").asText());
        assertThat(r.headers().firstValue("X-Request-Id")).isPresent();
        eventually(() -> poolReady(2));
        JsonNode p = pool();
        assertThat(p.get("spawned_warm").asInt()).isEqualTo(1);
        assertThat(sim.createdCount()).isEqualTo(3); // two for the pool, one refill: the taken VM never came back
        JsonNode list = body(send("GET", "/v1/vms", null, null));
        assertThat(list.get("vms")).hasSize(1);
    }

    @Test
    void aPooledVmThatDiesAsItIsTakenIsReplacedByTheNextOne() throws Exception {
        start(Map.of("hello", 2), false, SimDriver.Faults.none());
        eventually(() -> poolReady(2));
        sim.dieOnNextUnpauses(1);
        HttpResponse<String> r = post("/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\",\"args\":\"again\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        JsonNode vm = body(r);
        assertThat(vm.at("/timings/path").asText()).isEqualTo("warm");
        assertThat(vm.get("result").asText()).as("the args reached the second VM").isEqualTo("sim:again");
        assertThat(body(send("GET", "/v1/vms", null, null)).get("vms")).as("the dead one is not listed").hasSize(1);
        assertThat(send("GET", "/metrics", null, null).body()).contains("xenops_pool_lost_total{image=\"hello\"} 1.0");
    }

    @Test
    void aSpawnTakesOneReplacementNotTheWholePool() throws Exception {
        start(Map.of("hello", 3), false, SimDriver.Faults.none());
        eventually(() -> poolReady(3));
        sim.dieOnNextUnpauses(3);
        HttpResponse<String> r = post("/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        // The PING's failure (no such domain) and the exit event race; either names what happened to the VM.
        assertThat(body(r).get("detail").asText()).containsAnyOf("simulated triple fault on resume", "no domain vm-");
        assertThat(send("GET", "/metrics", null, null).body()).contains("xenops_pool_lost_total{image=\"hello\"} 1.0");
        assertThat(body(send("GET", "/v1/vms", null, null)).get("vms")).isEmpty();
    }

    @Test
    void argsAreHandedToTheGuestAndItsResultReturned() throws Exception {
        start(Map.of("hello", 1), true, SimDriver.Faults.none());
        eventually(() -> poolReady(1));
        JsonNode vm = body(post("/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\",\"args\":\"world\"}"));
        assertThat(vm.get("result").asText()).isEqualTo("sim:world");
        assertThat(vm.at("/timings/result_us").asLong()).isGreaterThanOrEqualTo(0);
        String console = send("GET", "/v1/vms/" + vm.get("id").asText() + "/console", null, null).body();
        assertThat(console).contains("READY hello " + vm.get("id").asText()).contains("RESULT");
    }

    @Test
    void emptyPoolTakesTheColdPathAndSaysSo() throws Exception {
        start(Map.of("hello", 0), true, SimDriver.Faults.none());
        HttpResponse<String> r = post("/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(body(r).at("/timings/path").asText()).isEqualTo("cold");
        assertThat(pool().get("spawned_cold").asInt()).isEqualTo(1);
    }

    @Test
    void emptyPoolWithColdSpawnsOffIs503() throws Exception {
        start(Map.of("hello", 0), false, SimDriver.Faults.none());
        HttpResponse<String> r = post("/v1/vms", "{\"image\":\"hello\"}");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(body(r).get("type").asText()).isEqualTo("urn:xenops:problem:capacity-exhausted");
    }

    @Test
    void aGuestThatNeverBootsIsATimeoutAndLeavesNothing() throws Exception {
        start(Map.of("hello", 0), true, SimDriver.Faults.none().withNeverReady(true));
        HttpResponse<String> r = post("/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(504);
        assertThat(body(r).get("type").asText()).isEqualTo("urn:xenops:problem:guest-timeout");
        eventually(() -> sim.list().isEmpty());
        assertThat(body(send("GET", "/v1/vms", null, null)).get("vms")).isEmpty();
        eventually(() -> {
            try (var s = Files.list(state.resolve("vms"))) {
                return s.findAny().isEmpty();
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    void aFailingHypervisorIs502AndLeavesNothing() throws Exception {
        start(Map.of("hello", 0), true, SimDriver.Faults.none().withFailCreate(true));
        HttpResponse<String> r = post("/v1/vms", "{\"image\":\"hello\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
        assertThat(sim.list()).isEmpty();
    }

    @Test
    void destroyRemovesTheVm() throws Exception {
        start(Map.of("hello", 1), true, SimDriver.Faults.none());
        eventually(() -> poolReady(1));
        String id = body(post("/v1/vms", "{\"image\":\"hello\"}")).get("id").asText();
        assertThat(send("DELETE", "/v1/vms/" + id, null, null).statusCode()).isEqualTo(204);
        assertThat(send("GET", "/v1/vms/" + id, null, null).statusCode()).isEqualTo(404);
        assertThat(send("DELETE", "/v1/vms/" + id, null, null).statusCode()).isEqualTo(404);
        assertThat(sim.list().stream().map(d -> d.id())).doesNotContain(id);
    }

    @Test
    void aCrashedRunningVmIsReportedAsCrashed() throws Exception {
        start(Map.of("hello", 1), true, SimDriver.Faults.none());
        eventually(() -> poolReady(1));
        String id = body(post("/v1/vms", "{\"image\":\"hello\"}")).get("id").asText();
        sim.kill(id);
        eventually(() -> {
            try {
                return body(send("GET", "/v1/vms/" + id, null, null)).get("state").asText().equals("crashed");
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    void poolTargetCanBeRaisedAndLowered() throws Exception {
        start(Map.of("hello", 1), true, SimDriver.Faults.none());
        eventually(() -> poolReady(1));
        HttpResponse<String> r = send("PUT", "/v1/pools/hello", "{\"target\":3}", "application/json");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(body(r).get("target").asInt()).isEqualTo(3);
        eventually(() -> poolReady(3));
        send("PUT", "/v1/pools/hello", "{\"target\":0}", "application/json");
        eventually(() -> poolReady(0));
        eventually(() -> sim.list().isEmpty());
    }

    @Test
    void badRequestsGetClearProblems() throws Exception {
        start(Map.of("hello", 0), true, SimDriver.Faults.none());
        record Case(String method, String path, String body, String type, int status, String type2) {}
        List<Case> cases = List.of(
                new Case("POST", "/v1/vms", "{\"image\":\"nope\"}", "application/json", 404, "unknown-image"),
                new Case("POST", "/v1/vms", "{\"image\":", "application/json", 400, "invalid-request"),
                new Case("POST", "/v1/vms", "{\"image\":\"hello\",\"colour\":1}", "application/json", 400, "invalid-request"),
                new Case("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"soon\"}", "application/json", 400, "invalid-request"),
                new Case("POST", "/v1/vms", "{\"image\":\"../etc\"}", "application/json", 400, "invalid-request"),
                new Case("POST", "/v1/vms", "{\"image\":\"hello\",\"args\":\"a\\nb\"}", "application/json", 400, "invalid-request"),
                new Case("POST", "/v1/vms", "[1,2]", "application/json", 400, "invalid-request"),
                new Case("POST", "/v1/vms", "{\"image\":\"hello\"}", "text/plain", 415, "unsupported-media-type"),
                new Case("POST", "/v1/vms", "{\"image\":\"hello\",\"args\":\"" + "x".repeat(5000) + "\"}", "application/json", 413, "payload-too-large"),
                new Case("GET", "/v1/vms/not-an-id", null, null, 400, "invalid-request"),
                new Case("GET", "/v1/vms/vm-000000000000", null, null, 404, "not-found"),
                new Case("PUT", "/v1/pools/hello", "{\"target\":-1}", "application/json", 400, "invalid-request"),
                new Case("PUT", "/v1/pools/nope", "{\"target\":1}", "application/json", 404, "unknown-image"),
                new Case("GET", "/v2/nothing", null, null, 404, "not-found"));
        for (Case c : cases) {
            HttpResponse<String> r = send(c.method(), c.path(), c.body(), c.type());
            assertThat(r.statusCode()).as(c + " -> " + r.body()).isEqualTo(c.status());
            assertThat(r.headers().firstValue("Content-Type")).as(c.toString()).hasValue("application/problem+json");
            JsonNode p = body(r);
            assertThat(p.get("type").asText()).as(c.toString()).isEqualTo("urn:xenops:problem:" + c.type2());
            assertThat(p.get("status").asInt()).isEqualTo(c.status());
            assertThat(p.get("detail").asText()).as(c.toString()).isNotBlank();
        }
        assertThat(sim.list()).isEmpty();
        // The daemon still serves after all that.
        assertThat(send("GET", "/v1/health", null, null).statusCode()).isEqualTo(200);
    }

    @Test
    void imagesAndHealthAreListed() throws Exception {
        start(Map.of("hello", 0), true, SimDriver.Faults.none());
        JsonNode imgs = body(send("GET", "/v1/images", null, null));
        assertThat(imgs.at("/images/0/name").asText()).isEqualTo("hello");
        assertThat(imgs.at("/images/0/digest").asText()).startsWith("sha256:");
        assertThat(body(send("GET", "/v1/health", null, null)).get("driver").asText()).isEqualTo("sim");
    }
}
