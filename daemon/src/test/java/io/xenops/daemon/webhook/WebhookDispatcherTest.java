package io.xenops.daemon.webhook;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The dispatcher against real HTTP receivers (WireMock on loopback) that are slow, failing or flapping. */
class WebhookDispatcherTest {
    private static final Instant AT = Instant.parse("2026-11-26T12:00:00Z");
    private static final Clock CLOCK = Clock.systemUTC();

    private WireMockServer receiver;
    private Vertx vertx;
    private Context context;
    private final LinkedBlockingQueue<Outcome> outcomes = new LinkedBlockingQueue<>();
    private WebhookDispatcher dispatcher;

    @BeforeEach
    void start() {
        receiver = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1").containerThreads(20)
                .jettyAcceptors(1));
        receiver.start();
        vertx = Vertx.vertx();
        context = vertx.getOrCreateContext();
    }

    @AfterEach
    void stop() throws Exception {
        if (dispatcher != null) dispatcher.shutdown().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        receiver.stop();
    }

    private WebhookDispatcher dispatcher(WebhookSettings settings, Optional<Signer> signer) {
        dispatcher = new WebhookDispatcher(vertx, context, settings, signer, CLOCK, new SplittableRandom(42), outcomes::add);
        return dispatcher;
    }

    private static WebhookSettings settings(int capacity, int inFlight, long timeoutMs, RetryPolicy retry) {
        return new WebhookSettings(capacity, inFlight, Duration.ofMillis(timeoutMs), retry);
    }

    private static RetryPolicy retry(int attempts, long initialMs, long maxMs, long totalMs) {
        return new RetryPolicy(attempts, Duration.ofMillis(initialMs), Duration.ofMillis(maxMs), Duration.ofMillis(totalMs));
    }

    private CallbackUrl hook() { return CallbackUrl.parse(receiver.baseUrl() + "/hook"); }

    private static WebhookEvent ready(String vm) { return new WebhookEvent.Vm("ready", vm, "hello", AT); }

    private Outcome nextOutcome(Duration within) throws InterruptedException {
        Outcome o = outcomes.poll(within.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(o).as("an outcome within %s", within).isNotNull();
        return o;
    }

    private List<LoggedRequest> received() { return receiver.findAll(postRequestedFor(urlEqualTo("/hook"))); }

    @Test
    void aSlowReceiverCostsATimeoutThenTheRetrySucceeds() throws Exception {
        receiver.stubFor(post("/hook").inScenario("slow").whenScenarioStateIs(STARTED)
                .willReturn(aResponse().withStatus(200).withFixedDelay(3_000)).willSetStateTo("fast"));
        receiver.stubFor(post("/hook").inScenario("slow").whenScenarioStateIs("fast").willReturn(aResponse().withStatus(204)));
        dispatcher(settings(16, 4, 300, retry(5, 50, 200, 10_000)), Optional.empty());

        long t0 = System.nanoTime();
        String id = dispatcher.submit(hook(), ready("vm-slow"));
        Outcome o = nextOutcome(Duration.ofSeconds(5));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);

        assertThat(o).isEqualTo(new Outcome.Delivered(id, hook(), "ready", 2, 204));
        assertThat(took).as("gave up on the slow answer instead of waiting 3 s for it").isLessThan(Duration.ofMillis(2_500));
        assertThat(dispatcher.stats().timeouts()).isEqualTo(1);
        assertThat(received()).extracting(r -> r.getHeader("X-Xenops-Delivery")).containsExactly(id, id);
        assertThat(received()).extracting(r -> r.getHeader("X-Xenops-Attempt")).containsExactly("1", "2");
    }

    @Test
    void aFailingReceiverIsRetriedUpToTheLimitThenGivenUpAndCounted() throws Exception {
        receiver.stubFor(post("/hook").willReturn(aResponse().withStatus(500)));
        dispatcher(settings(16, 4, 1_000, retry(4, 20, 100, 10_000)), Optional.empty());

        String id = dispatcher.submit(hook(), ready("vm-fail"));
        Outcome o = nextOutcome(Duration.ofSeconds(5));

        assertThat(o).isInstanceOf(Outcome.GaveUp.class);
        assertThat(o.deliveryId()).isEqualTo(id);
        assertThat(o.attempts()).isEqualTo(4);
        assertThat(((Outcome.GaveUp) o).reason()).contains("4 attempts failed").contains("HTTP 500");
        WebhookStats s = dispatcher.stats();
        assertThat(s.gaveUp()).isEqualTo(1);
        assertThat(s.delivered()).isZero();
        assertThat(s.attempts()).isEqualTo(4);
        assertThat(s.retries()).isEqualTo(3);
        Thread.sleep(300);
        assertThat(received()).as("nothing after giving up").hasSize(4);
        assertThat(s.queued()).isZero();
    }

    @Test
    void aFlappingReceiverGetsExactlyOneSuccessfulDeliveryWithAStableId() throws Exception {
        receiver.stubFor(post("/hook").inScenario("flap").whenScenarioStateIs(STARTED)
                .willReturn(aResponse().withStatus(503)).willSetStateTo("reset"));
        receiver.stubFor(post("/hook").inScenario("flap").whenScenarioStateIs("reset")
                .willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)).willSetStateTo("up"));
        receiver.stubFor(post("/hook").inScenario("flap").whenScenarioStateIs("up").willReturn(aResponse().withStatus(200)));
        dispatcher(settings(16, 4, 1_000, retry(6, 20, 100, 10_000)), Optional.empty());

        String id = dispatcher.submit(hook(), ready("vm-flap"));
        Outcome o = nextOutcome(Duration.ofSeconds(5));

        assertThat(o).isEqualTo(new Outcome.Delivered(id, hook(), "ready", 3, 200));
        assertThat(outcomes.poll(500, TimeUnit.MILLISECONDS)).as("one outcome per delivery").isNull();
        assertThat(dispatcher.stats().delivered()).isEqualTo(1);
        List<LoggedRequest> got = received();
        assertThat(got).hasSize(3);
        assertThat(got).extracting(r -> r.getHeader("X-Xenops-Delivery")).containsOnly(id);
        assertThat(got).extracting(LoggedRequest::getBodyAsString).as("retries resend the same bytes").containsOnly(got.getFirst().getBodyAsString());
        assertThat(got).allSatisfy(r -> {
            assertThat(r.getHeader("Content-Type")).isEqualTo("application/json");
            assertThat(r.getHeader("X-Xenops-Event")).isEqualTo("ready");
            assertThat(r.containsHeader("X-Xenops-Signature")).as("no secret, no signature").isFalse();
        });
        JsonObject body = new JsonObject(got.getFirst().getBodyAsString());
        assertThat(body.getMap()).containsExactlyInAnyOrderEntriesOf(java.util.Map.of(
                "delivery", id, "event", "ready", "vm", "vm-flap", "image", "hello", "at", "2026-11-26T12:00:00Z"));
    }

    @Test
    void aFullQueueDropsTheOldestAndCountsThem() throws Exception {
        receiver.stubFor(post("/hook").willReturn(aResponse().withStatus(200).withFixedDelay(300)));
        dispatcher(settings(3, 1, 5_000, retry(3, 20, 100, 10_000)), Optional.empty());

        List<String> ids = new ArrayList<>();
        for (int i = 1; i <= 10; i++) ids.add(dispatcher.submit(hook(), ready("vm-" + i)));

        List<Outcome> all = new ArrayList<>();
        for (int i = 0; i < 10; i++) all.add(nextOutcome(Duration.ofSeconds(5)));
        // vm-1 went out at once (one slot); of vm-2..vm-10 only the newest three fit in the queue.
        assertThat(all).filteredOn(o -> o instanceof Outcome.Dropped).extracting(Outcome::deliveryId)
                .containsExactlyElementsOf(ids.subList(1, 7));
        assertThat(all).filteredOn(o -> o instanceof Outcome.Dropped)
                .allSatisfy(o -> assertThat(((Outcome.Dropped) o).why()).isEqualTo(Outcome.Why.QUEUE_FULL));
        assertThat(all).filteredOn(o -> o instanceof Outcome.Delivered).extracting(Outcome::deliveryId)
                .containsExactly(ids.get(0), ids.get(7), ids.get(8), ids.get(9));
        assertThat(received()).extracting(r -> new JsonObject(r.getBodyAsString()).getString("vm"))
                .containsExactly("vm-1", "vm-8", "vm-9", "vm-10");
        WebhookStats s = dispatcher.stats();
        assertThat(s.dropped()).isEqualTo(6);
        assertThat(s.delivered()).isEqualTo(4);
        assertThat(s.submitted()).isEqualTo(10);
    }

    @Test
    void aDeadReceiverCannotGrowMemoryAndEveryDeliveryIsAccountedFor() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        CallbackUrl dead = CallbackUrl.parse("http://127.0.0.1:" + deadPort + "/hook");
        dispatcher(settings(5, 2, 500, retry(100, 200, 1_000, 60_000)), Optional.empty());

        for (int i = 0; i < 200; i++) dispatcher.submit(dead, ready("vm-" + i));
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (dispatcher.stats().dropped() < 195 && System.nanoTime() < deadline) {
            WebhookStats s = dispatcher.stats();
            assertThat(s.queued()).isLessThanOrEqualTo(5);
            assertThat(s.inFlight()).isLessThanOrEqualTo(2);
            Thread.sleep(10);
        }
        WebhookStats s = dispatcher.stats();
        assertThat(s.dropped()).as("all but the queue's capacity pushed out").isEqualTo(195);
        assertThat(s.queued() + s.inFlight()).isLessThanOrEqualTo(5);

        dispatcher.shutdown().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        List<Outcome> all = new ArrayList<>();
        outcomes.drainTo(all);
        assertThat(all).as("one outcome per submitted delivery").hasSize(200);
        assertThat(all).extracting(Outcome::deliveryId).doesNotHaveDuplicates();
        assertThat(all).filteredOn(o -> o instanceof Outcome.Dropped d && d.why() == Outcome.Why.SHUTDOWN).hasSize(5);
        dispatcher = null;
    }

    @Test
    void retriesStopWhenTheTotalTimeIsSpentEvenWithAttemptsLeft() throws Exception {
        receiver.stubFor(post("/hook").willReturn(aResponse().withStatus(502)));
        dispatcher(settings(16, 4, 1_000, retry(1_000, 50, 100, 400)), Optional.empty());

        long t0 = System.nanoTime();
        dispatcher.submit(hook(), ready("vm-t"));
        Outcome o = nextOutcome(Duration.ofSeconds(5));

        assertThat(o).isInstanceOf(Outcome.GaveUp.class);
        assertThat(((Outcome.GaveUp) o).reason()).contains("no attempt left within 400 ms");
        // One attempt is enough when a loaded host makes the first take most of the 400 ms; the point is
        // that the budget, not the 1,000 attempts, ended it.
        assertThat(o.attempts()).isBetween(1, 12);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("far from 1000 attempts").isLessThan(Duration.ofSeconds(3));
    }

    @Test
    void aPermanentRefusalIsNotRetried() throws Exception {
        receiver.stubFor(post("/hook").willReturn(aResponse().withStatus(404)));
        dispatcher(settings(16, 4, 1_000, retry(5, 20, 100, 10_000)), Optional.empty());

        dispatcher.submit(hook(), new WebhookEvent.Pool("filled", "hello", AT));
        Outcome o = nextOutcome(Duration.ofSeconds(5));

        assertThat(o).isInstanceOf(Outcome.GaveUp.class);
        assertThat(o.attempts()).isEqualTo(1);
        assertThat(((Outcome.GaveUp) o).reason()).contains("HTTP 404");
        assertThat(received()).hasSize(1);
        assertThat(new JsonObject(received().getFirst().getBodyAsString()).getString("pool")).isEqualTo("hello");
    }

    @Test
    void retryAfterFromTheReceiverLengthensTheWait() throws Exception {
        receiver.stubFor(post("/hook").inScenario("busy").whenScenarioStateIs(STARTED)
                .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "1")).willSetStateTo("ok"));
        receiver.stubFor(post("/hook").inScenario("busy").whenScenarioStateIs("ok").willReturn(aResponse().withStatus(200)));
        dispatcher(settings(16, 4, 1_000, retry(3, 10, 5_000, 10_000)), Optional.empty());

        dispatcher.submit(hook(), ready("vm-busy"));
        assertThat(nextOutcome(Duration.ofSeconds(5))).isInstanceOf(Outcome.Delivered.class);
        List<LoggedRequest> got = received();
        long gapMs = got.get(1).getLoggedDate().getTime() - got.get(0).getLoggedDate().getTime();
        assertThat(gapMs).as("waited as asked, not the 10 ms backoff").isGreaterThanOrEqualTo(900);
    }

    @Test
    void withASecretEveryAttemptIsSignedOverItsTimestampAndBody() throws Exception {
        byte[] secret = "0123456789abcdef-webhook-secret".getBytes(StandardCharsets.UTF_8);
        receiver.stubFor(post("/hook").inScenario("sig").whenScenarioStateIs(STARTED)
                .willReturn(aResponse().withStatus(500)).willSetStateTo("ok"));
        receiver.stubFor(post("/hook").inScenario("sig").whenScenarioStateIs("ok").willReturn(aResponse().withStatus(200)));
        dispatcher(settings(16, 4, 1_000, retry(3, 20, 100, 10_000)), Optional.of(new Signer(secret)));

        dispatcher.submit(hook(), ready("vm-sig"));
        assertThat(nextOutcome(Duration.ofSeconds(5))).isInstanceOf(Outcome.Delivered.class);

        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret, "HmacSHA256"));
        assertThat(received()).hasSize(2).allSatisfy(r -> {
            String ts = r.getHeader("X-Xenops-Timestamp");
            assertThat(Long.parseLong(ts)).isCloseTo(Instant.now().getEpochSecond(), org.assertj.core.data.Offset.offset(60L));
            byte[] expected = mac.doFinal((ts + "." + r.getBodyAsString()).getBytes(StandardCharsets.UTF_8));
            assertThat(r.getHeader("X-Xenops-Signature")).isEqualTo("sha256=" + HexFormat.of().formatHex(expected));
        });
        byte[] tampered = mac.doFinal(("0." + received().getFirst().getBodyAsString()).getBytes(StandardCharsets.UTF_8));
        assertThat(received().getFirst().getHeader("X-Xenops-Signature")).isNotEqualTo("sha256=" + HexFormat.of().formatHex(tampered));
    }

    @Test
    void submittingFromTheEventLoopNeverWaitsForTheReceiver() throws Exception {
        // A receiver that completes the TCP handshake (the kernel does, from the backlog) and never answers.
        try (ServerSocket blackhole = new ServerSocket(0, 64, java.net.InetAddress.getLoopbackAddress())) {
            CallbackUrl silent = CallbackUrl.parse("http://127.0.0.1:" + blackhole.getLocalPort() + "/hook");
            dispatcher(settings(100, 1, 10_000, retry(1, 20, 100, 60_000)), Optional.empty());
            // First use loads the HTTP client's classes; that one-time cost is not what this test measures.
            receiver.stubFor(post("/hook").willReturn(aResponse().withStatus(200)));
            dispatcher.submit(hook(), ready("vm-warm-up"));
            assertThat(nextOutcome(Duration.ofSeconds(60))).isInstanceOf(Outcome.Delivered.class);

            java.util.concurrent.CompletableFuture<Long> took = new java.util.concurrent.CompletableFuture<>();
            context.runOnContext(v -> {
                long t0 = System.nanoTime();
                for (int i = 0; i < 50; i++) dispatcher.submit(silent, ready("vm-" + i));
                took.complete(System.nanoTime() - t0);
            });
            // Had a submit waited for an answer, it would have waited for the 10 s attempt timeout.
            assertThat(Duration.ofNanos(took.get(10, TimeUnit.SECONDS))).isLessThan(Duration.ofSeconds(2));
            assertThat(dispatcher.stats().inFlight()).isEqualTo(1);
            assertThat(dispatcher.stats().queued()).isEqualTo(49);
        }
    }
}
