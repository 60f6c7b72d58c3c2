package io.xenops.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import io.xenops.daemon.config.ConfigException;
import io.xenops.daemon.config.ConfigLoader;
import io.xenops.driver.sim.SimDriver;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The service surface orchestrators build on (issue 7), over real HTTP with the simulated hypervisor. */
class DaemonServiceTest {
    private SimDaemon d;

    @AfterEach
    void tearDown() {
        if (d != null) d.close();
    }

    private SimDaemon start(Map<String, Integer> pools, SimDriver.Faults f) throws Exception {
        d = new SimDaemon(pools, f, null, null);
        return d;
    }

    @Test
    void invokeReturnsTheGuestOutputAndDestroysTheVm() throws Exception {
        start(Map.of("hello", 1), SimDriver.Faults.none());
        SimDaemon.eventually(() -> d.poolReady("hello") == 1);
        JsonNode inv = d.json("POST", "/v1/invocations", "{\"image\":\"hello\",\"input\":\"abc\"}", 200);
        assertThat(inv.get("output").asText()).isEqualTo("sim:abc");
        assertThat(inv.at("/timings/path").asText()).isEqualTo("warm");
        String vm = inv.get("vm").asText();
        SimDaemon.eventually(() -> d.sim.list().stream().noneMatch(x -> x.id().equals(vm)));
        assertThat(d.send("GET", "/v1/vms/" + vm, null).statusCode()).isEqualTo(404);
    }

    @Test
    void asyncSpawnIsATaskWhoseResultIsTheVm() throws Exception {
        start(Map.of("hello", 0), SimDriver.Faults.none());
        HttpResponse<String> r = d.send("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\",\"async\":true}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        String task = d.json.readTree(r.body()).get("id").asText();
        assertThat(r.headers().firstValue("Location")).hasValue("/v1/tasks/" + task);
        SimDaemon.eventually(() -> {
            try {
                return d.json("GET", "/v1/tasks/" + task, null, 200).get("state").asText().equals("succeeded");
            } catch (Exception e) {
                return false;
            }
        });
        JsonNode t = d.json("GET", "/v1/tasks/" + task, null, 200);
        assertThat(t.get("progress").asDouble()).isEqualTo(1.0);
        String vm = t.at("/result/id").asText();
        assertThat(d.json("GET", "/v1/vms/" + vm, null, 200).get("state").asText()).isEqualTo("running");
    }

    @Test
    void cancellingASpawnInProgressDestroysItsVm() throws Exception {
        start(Map.of("hello", 0), SimDriver.Faults.none().withBootDelay(Duration.ofMillis(500)));
        String task = d.json("POST", "/v1/vms", "{\"image\":\"hello\",\"async\":true}", 202).get("id").asText();
        assertThat(d.json("DELETE", "/v1/tasks/" + task, null, 200).get("state").asText()).isEqualTo("cancelled");
        Thread.sleep(800);
        SimDaemon.eventually(() -> d.sim.list().isEmpty());
        assertThat(d.json("GET", "/v1/vms", null, 200).get("vms")).isEmpty();
        assertThat(d.send("GET", "/v1/tasks/task-000000000000", null).statusCode()).isEqualTo(404);
    }

    @Test
    void aPoolTargetStartsAFillTaskThatFinishesWhenThePoolIsFull() throws Exception {
        start(Map.of("hello", 0), SimDriver.Faults.none());
        JsonNode pool = d.json("PUT", "/v1/pools/hello", "{\"target\":3}", 200);
        String task = pool.get("task").asText();
        SimDaemon.eventually(() -> {
            try {
                return d.json("GET", "/v1/tasks/" + task, null, 200).get("state").asText().equals("succeeded");
            } catch (Exception e) {
                return false;
            }
        });
        assertThat(d.poolReady("hello")).isEqualTo(3);
        assertThat(d.json("GET", "/v1/tasks", null, 200).get("tasks").findValuesAsText("id")).contains(task);
    }

    @Test
    void eventsCarryIdsAndKindsAndResumeFromAnId() throws Exception {
        start(Map.of("hello", 1), SimDriver.Faults.none());
        SimDaemon.eventually(() -> d.poolReady("hello") == 1);
        long since = d.json("GET", "/v1/events", null, 200).get("next").asLong();
        // A long poll that waits for the spawn below.
        CompletableFuture<HttpResponse<String>> poll = d.http.sendAsync(HttpRequest.newBuilder(
                URI.create(d.base + "/v1/events?since=" + since + "&timeout_ms=5000")).build(), HttpResponse.BodyHandlers.ofString());
        String vm = d.json("POST", "/v1/vms", "{\"image\":\"hello\"}", 201).get("id").asText();
        JsonNode page = d.json.readTree(poll.get(5, TimeUnit.SECONDS).body());
        assertThat(page.get("events").size()).isGreaterThanOrEqualTo(1);
        SimDaemon.eventually(() -> {
            try {
                JsonNode all = d.json("GET", "/v1/events?since=" + since, null, 200);
                return all.get("events").findValuesAsText("subject").contains(vm)
                        && all.get("events").findValuesAsText("kind").contains("vm.running");
            } catch (Exception e) {
                return false;
            }
        });
        JsonNode stale = d.json("GET", "/v1/events?since=1", null, 200);
        assertThat(stale.get("truncated").asBoolean()).isTrue();
        assertThat(d.send("GET", "/v1/events?since=abc", null).statusCode()).isEqualTo(400);
    }

    @Test
    void theEventStreamDeliversNewEventsAsServerSentEvents() throws Exception {
        start(Map.of("hello", 1), SimDriver.Faults.none());
        SimDaemon.eventually(() -> d.poolReady("hello") == 1);
        HttpResponse<java.io.InputStream> stream = d.http.send(HttpRequest.newBuilder(URI.create(d.base + "/v1/events/stream")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(stream.headers().firstValue("Content-Type")).hasValue("text/event-stream");
        String vm = d.json("POST", "/v1/vms", "{\"image\":\"hello\"}", 201).get("id").asText();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(stream.body()))) {
            String line;
            boolean sawRunning = false;
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!sawRunning && System.nanoTime() < deadline && (line = in.readLine()) != null) {
                if (line.equals("event: vm.running")) {
                    assertThat(in.readLine()).startsWith("data: ").contains(vm);
                    sawRunning = true;
                }
            }
            assertThat(sawRunning).isTrue();
        }
    }

    @Test
    void metricsAreExposedForPrometheus() throws Exception {
        start(Map.of("hello", 1), SimDriver.Faults.none());
        SimDaemon.eventually(() -> d.poolReady("hello") == 1);
        d.json("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\"}", 201);
        d.send("POST", "/v1/vms", "{\"image\":\"nope\"}");
        HttpResponse<String> m = d.send("GET", "/metrics", null);
        assertThat(m.statusCode()).isEqualTo(200);
        assertThat(m.body())
                .contains("xenops_spawn_seconds_bucket{outcome=\"ok\",path=\"warm\",wait=\"ready\"")
                .contains("xenops_pool_ready{image=\"hello\"}")
                .contains("xenops_driver_op_seconds_count{op=\"unpause\"")
                .contains("xenops_failures_total{type=\"unknown-image\"} 1.0")
                .contains("xenops_pool_builds_total{image=\"hello\",outcome=\"ok\"}");
    }

    @Test
    void tokensScopesQuotasAndRateLimits() throws Exception {
        Path tokens = Files.createTempFile("tokens", ".json", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tokens, """
                {"tokens": [
                  {"name": "reader", "token": "r-secret", "scope": "read"},
                  {"name": "spawner", "token": "s-secret", "scope": "spawn", "max_vms": 1},
                  {"name": "admin", "token": "a-secret", "scope": "admin"},
                  {"name": "slow", "token": "slow-secret", "scope": "read", "rate_per_second": 0.5, "burst": 2}
                ]}""");
        d = new SimDaemon(Map.of("hello", 2), SimDriver.Faults.none(), tokens, null);
        HttpResponse<String> none = d.send("GET", "/v1/vms", null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).isPresent();
        assertThat(d.send("GET", "/v1/health", null).statusCode()).isEqualTo(200);
        d.token = "wrong";
        assertThat(d.send("GET", "/v1/vms", null).statusCode()).isEqualTo(401);
        d.token = "r-secret";
        assertThat(d.send("GET", "/v1/vms", null).statusCode()).isEqualTo(200);
        HttpResponse<String> forbidden = d.send("POST", "/v1/vms", "{\"image\":\"hello\"}");
        assertThat(forbidden.statusCode()).isEqualTo(403);
        assertThat(forbidden.body()).contains("urn:xenops:problem:forbidden");
        d.token = "s-secret";
        assertThat(d.send("PUT", "/v1/pools/hello", "{\"target\":1}").statusCode()).isEqualTo(403);
        SimDaemon.eventually(() -> d.poolReady("hello") == 2);
        d.json("POST", "/v1/vms", "{\"image\":\"hello\"}", 201);
        HttpResponse<String> quota = d.send("POST", "/v1/vms", "{\"image\":\"hello\"}");
        assertThat(quota.statusCode()).isEqualTo(429);
        assertThat(quota.body()).contains("urn:xenops:problem:quota-exceeded");
        d.token = "a-secret";
        assertThat(d.send("PUT", "/v1/pools/hello", "{\"target\":1}").statusCode()).isEqualTo(200);
        d.token = "slow-secret";
        assertThat(d.send("GET", "/v1/vms", null).statusCode()).isEqualTo(200);
        assertThat(d.send("GET", "/v1/vms", null).statusCode()).isEqualTo(200);
        HttpResponse<String> limited = d.send("GET", "/v1/vms", null);
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.headers().firstValue("Retry-After")).isPresent();
        assertThat(limited.body()).contains("urn:xenops:problem:rate-limited");
    }

    @Test
    void theUnixSocketListenerNeedsNoTokenAndIsOwnerAndGroupOnly() throws Exception {
        Path tokens = Files.createTempFile("tokens", ".json", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tokens, "{\"tokens\":[{\"name\":\"x\",\"token\":\"x\",\"scope\":\"read\"}]}");
        Path sock = Path.of("/tmp", "xo-" + ProcessHandle.current().pid() + ".sock");
        d = new SimDaemon(Map.of("hello", 0), SimDriver.Faults.none(), tokens, sock);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sock))).isEqualTo("rw-rw----");
        Vertx vertx = Vertx.vertx();
        try {
            String status = vertx.createHttpClient()
                    .request(new RequestOptions().setServer(SocketAddress.domainSocketAddress(sock.toString()))
                            .setHost("localhost").setPort(80)
                            .setMethod(HttpMethod.PUT).setURI("/v1/pools/hello").putHeader("Content-Type", "application/json"))
                    .compose(req -> req.send("{\"target\":1}"))
                    .compose(res -> res.body().map(b -> res.statusCode() + " " + b))
                    .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(status).startsWith("200 ");
        } finally {
            vertx.close();
        }
    }

    @Test
    void aSpawnsCallbackHearsReadyAndExited() throws Exception {
        com.github.tomakehurst.wiremock.WireMockServer hook = new com.github.tomakehurst.wiremock.WireMockServer(
                com.github.tomakehurst.wiremock.core.WireMockConfiguration.options().dynamicPort().bindAddress("127.0.0.1"));
        hook.start();
        try {
            hook.stubFor(com.github.tomakehurst.wiremock.client.WireMock.post("/hook")
                    .willReturn(com.github.tomakehurst.wiremock.client.WireMock.ok()));
            start(Map.of("hello", 1), SimDriver.Faults.none());
            SimDaemon.eventually(() -> d.poolReady("hello") == 1);
            String url = "http://127.0.0.1:" + hook.port() + "/hook";
            String vm = d.json("POST", "/v1/vms", "{\"image\":\"hello\",\"callback_url\":\"" + url + "\"}", 201).get("id").asText();
            d.sim.kill(vm);
            SimDaemon.eventually(() -> hook.getAllServeEvents().size() >= 2);
            var bodies = hook.getAllServeEvents().stream().map(e -> e.getRequest().getBodyAsString()).toList();
            assertThat(bodies).anyMatch(b -> b.contains("\"event\":\"ready\"") && b.contains(vm));
            assertThat(bodies).anyMatch(b -> b.contains("\"event\":\"exited\"") && b.contains(vm));
            assertThat(d.send("POST", "/v1/vms", "{\"image\":\"hello\",\"callback_url\":\"ftp://x/y\"}").statusCode()).isEqualTo(400);
        } finally {
            hook.stop();
        }
    }

    @Test
    void imagesCanBeImportedInspectedRemovedAndCollected() throws Exception {
        start(Map.of("hello", 1), SimDriver.Faults.none());
        Path dir = Files.createTempDirectory("img");
        Files.writeString(dir.resolve("manifest.json"), "{\"name\":\"third\",\"version\":\"1.0\",\"memory_mib\":4,\"vcpus\":1,"
                + "\"boot_modes\":[\"pvh\",\"pv\"],\"cmdline\":\"\",\"readiness\":\"console\"}");
        JsonNode imported = d.json("POST", "/v1/images/imports", "{\"kernel_path\":\"" + SimDaemon.kernel().toAbsolutePath()
                + "\",\"manifest_path\":\"" + dir.resolve("manifest.json") + "\"}", 201);
        assertThat(imported.get("name").asText()).isEqualTo("third");
        assertThat(imported.get("digest").asText()).startsWith("sha256:");
        JsonNode details = d.json("GET", "/v1/images/third", null, 200);
        assertThat(details.get("boot_modes").findValuesAsText("")).isEmpty();
        assertThat(details.get("boot_modes").toString()).contains("pvh");
        // A new image gets a pool, and spawns from it like any other.
        SimDaemon.eventually(() -> d.poolReady("third") >= 0);
        assertThat(d.json("POST", "/v1/vms", "{\"image\":\"third\",\"wait\":\"ready\"}", 201).get("image").asText()).isEqualTo("third");
        // In use (a pool with a target, a running VM): removal is refused.
        HttpResponse<String> busy = d.send("DELETE", "/v1/images/hello", null);
        assertThat(busy.statusCode()).isEqualTo(409);
        assertThat(busy.body()).contains("urn:xenops:problem:conflict");
        // A bad file is refused with the reason, and the store is unchanged.
        Files.writeString(dir.resolve("bad.elf"), "not an elf");
        HttpResponse<String> bad = d.send("POST", "/v1/images/imports", "{\"kernel_path\":\"" + dir.resolve("bad.elf")
                + "\",\"manifest_path\":\"" + dir.resolve("manifest.json") + "\"}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(d.json("GET", "/v1/images", null, 200).get("images").findValuesAsText("name")).containsExactlyInAnyOrder("hello", "other", "third");
        // Unused: set its pool to zero, destroy its VMs, then it can go, and gc frees its blobs.
        d.json("PUT", "/v1/pools/other", "{\"target\":0}", 200);
        SimDaemon.eventually(() -> d.poolReady("other") == 0);
        SimDaemon.eventually(() -> {
            try {
                return d.send("DELETE", "/v1/images/other", null).statusCode() == 204;
            } catch (Exception e) {
                return false;
            }
        });
        assertThat(d.send("GET", "/v1/images/other", null).statusCode()).isEqualTo(404);
        JsonNode gc = d.json("POST", "/v1/images/gc", "{\"budget_bytes\":0}", 200);
        assertThat(gc.has("bytes_used")).isTrue();
        assertThat(d.json("GET", "/v1/images", null, 200).get("images").findValuesAsText("name")).contains("hello", "third");
    }

    @Test
    void aPullFromAnUnreachableRegistryIsAFailedTaskWithAReason() throws Exception {
        start(Map.of("hello", 0), SimDriver.Faults.none());
        String task = d.json("POST", "/v1/images/pulls", "{\"reference\":\"127.0.0.1:1/xenops/hello:1.0\"}", 202).get("id").asText();
        SimDaemon.eventually(() -> {
            try {
                return d.json("GET", "/v1/tasks/" + task, null, 200).get("state").asText().equals("failed");
            } catch (Exception e) {
                return false;
            }
        });
        JsonNode t = d.json("GET", "/v1/tasks/" + task, null, 200);
        assertThat(t.at("/error/type").asText()).isEqualTo("urn:xenops:problem:driver-failure");
        assertThat(t.at("/error/detail").asText()).contains("registry");
        assertThat(d.send("POST", "/v1/images/pulls", "{\"reference\":\"not a reference\"}").statusCode()).isEqualTo(400);
    }

    @Test
    void aNonLoopbackListenerWithoutTokensIsRefused() {
        assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(new String[] {"--listen", "0.0.0.0:8470", "--state-dir", "/tmp/x"}))
                .isInstanceOf(ConfigException.class).hasMessageContaining("tokens_file");
    }
}
