package io.xenops.image.oci;

import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.moreThanOrExactly;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import io.xenops.image.Digests;
import io.xenops.image.Image;
import io.xenops.image.ImageException;
import io.xenops.image.ImageException.Reason;
import io.xenops.image.store.CasImageStore;
import io.xenops.image.store.StoreHooks;
import io.xenops.image.store.StoreOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry failures a real registry will not produce on demand, played by WireMock. */
class RegistryFaultsTest {
    @TempDir Path tmp;
    private FakeRegistry reg;
    private CasImageStore store;
    private RegistryClient client;
    private ImageTransfer transfer;

    /** Short pauses, but timeouts with room for a loaded 2-core CI machine. */
    private static final RegistryOptions FAST = RegistryOptions.defaults()
            .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5))
            .withRetries(3, Duration.ofMillis(20));

    @BeforeEach
    void setUp() {
        reg = new FakeRegistry(256 * 1024);
        store = new CasImageStore(tmp.resolve("store"));
        client = new RegistryClient(FAST);
        transfer = new ImageTransfer(store, client);
    }

    @AfterEach
    void tearDown() {
        transfer.close();
        client.close();
        store.close();
        reg.close();
    }

    private Image pull() {
        try {
            return transfer.pull(reg.ref(), ProgressListener.NONE).join();
        } catch (CompletionException e) {
            throw (RuntimeException) e.getCause();
        }
    }

    private void pullFails(Reason reason, String message) throws Exception {
        assertThatThrownBy(this::pull)
                .isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.reason()).isEqualTo(reason))
                .hasMessageContaining(message);
        assertUnchanged();
    }

    /** Nothing visible: no reference, no blob. */
    private void assertUnchanged() throws Exception {
        assertThat(store.list()).isEmpty();
        try (Stream<Path> blobs = Files.list(store.root().resolve("blobs/sha256"))) {
            assertThat(blobs.toList()).isEmpty();
        }
        assertThat(store.fsck()).isEmpty();
    }

    private long partialLength() throws Exception {
        Path p = store.root().resolve("partial/sha256").resolve(Digests.hex(Digests.of(reg.kernel)));
        return Files.exists(p) ? Files.size(p) : -1;
    }

    @Test
    void aHealthyFakeRegistryPulls() {
        reg.healthy();
        List<long[]> seen = new CopyOnWriteArrayList<>();
        Image img = transfer.pull(reg.ref(), (d, t) -> seen.add(new long[] {d, t})).join();
        assertThat(img.name()).isEqualTo("hello");
        assertThat(img.version()).isEqualTo("0.1.0");
        assertThat(img.digest()).isEqualTo(Digests.of(reg.kernel));
        long total = reg.kernel.length + reg.config.length;
        assertThat(seen.getLast()).containsExactly(total, total);
        for (int i = 1; i < seen.size(); i++) assertThat(seen.get(i)[0]).isGreaterThanOrEqualTo(seen.get(i - 1)[0]);
        assertThat(store.inspect("hello:0.1.0").source()).isEqualTo(reg.host() + "/apps/hello@" + Digests.of(reg.manifest));
    }

    @Test
    void serverErrorsAreRetried() {
        reg.healthy();
        reg.wm.stubFor(get(urlEqualTo(reg.manifestUrl())).inScenario("m").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(500)).willSetStateTo("again"));
        reg.wm.stubFor(get(urlEqualTo(reg.manifestUrl())).inScenario("m").whenScenarioStateIs("again")
                .willReturn(aResponse().withStatus(503)).willSetStateTo("ok"));
        reg.wm.stubFor(get(urlEqualTo(reg.manifestUrl())).inScenario("m").whenScenarioStateIs("ok")
                .willReturn(reg.manifestResponse()));
        reg.wm.stubFor(get(urlEqualTo(reg.kernelUrl())).inScenario("k").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)).willSetStateTo("ok"));
        reg.wm.stubFor(get(urlEqualTo(reg.kernelUrl())).inScenario("k").whenScenarioStateIs("ok")
                .willReturn(FakeRegistry.blob(reg.kernel)));
        assertThat(pull().digest()).isEqualTo(Digests.of(reg.kernel));
        reg.wm.verify(3, getRequestedFor(urlEqualTo(reg.manifestUrl())));
        reg.wm.verify(2, getRequestedFor(urlEqualTo(reg.kernelUrl())));
    }

    @Test
    void aRegistryThatKeepsFailingFailsThePullAndChangesNothing() throws Exception {
        reg.healthy();
        reg.wm.stubFor(get(urlEqualTo(reg.kernelUrl())).willReturn(aResponse().withStatus(500)));
        pullFails(Reason.REGISTRY, "failed after 3 attempts");
        reg.wm.verify(3, getRequestedFor(urlEqualTo(reg.kernelUrl())));
        reg.wm.stubFor(get(urlEqualTo(reg.manifestUrl())).willReturn(aResponse().withStatus(502)));
        pullFails(Reason.REGISTRY, "HTTP 502");
    }

    @Test
    void aSlowResponseTimesOutAndIsRetried() {
        reg.healthy();
        reg.wm.stubFor(get(urlEqualTo(reg.manifestUrl())).inScenario("slow").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(reg.manifestResponse().withFixedDelay(8000)).willSetStateTo("fast"));
        reg.wm.stubFor(get(urlEqualTo(reg.manifestUrl())).inScenario("slow").whenScenarioStateIs("fast")
                .willReturn(reg.manifestResponse()));
        long t0 = System.nanoTime();
        try (RegistryClient impatient = new RegistryClient(FAST.withTimeouts(Duration.ofMillis(1500), Duration.ofSeconds(5)));
             ImageTransfer t = new ImageTransfer(store, impatient)) {
            assertThat(t.pull(reg.ref(), ProgressListener.NONE).join().name()).isEqualTo("hello");
        }
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(7900));
        reg.wm.verify(moreThanOrExactly(2), getRequestedFor(urlEqualTo(reg.manifestUrl())));
    }

    @Test
    void aStalledBodyIsAbandonedAndResumedWithARange() throws Exception {
        String repo = "/v2/" + FakeRegistry.REPO;
        int sent = reg.kernel.length / 3;
        try (StallingServer stalling = new StallingServer(java.util.Map.of(
                repo + "/manifests/0.1.0", reg.manifest,
                repo + "/blobs/" + Digests.of(reg.config), reg.config,
                repo + "/blobs/" + Digests.of(reg.kernel), reg.kernel), repo + "/blobs/" + Digests.of(reg.kernel), sent);
             RegistryClient watchful = new RegistryClient(FAST.withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(2)));
             ImageTransfer t = new ImageTransfer(store, watchful)) {
            long t0 = System.nanoTime();
            Image img = t.pull(stalling.host() + "/" + FakeRegistry.REPO + ":0.1.0", ProgressListener.NONE).join();
            assertThat(img.digest()).isEqualTo(Digests.of(reg.kernel));
            // given up on after the idle timeout, not after the server's 60 s stall
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
            assertThat(stalling.ranges).first().isEqualTo("bytes=" + sent + "-");
        }
        assertThat(store.fsck()).isEmpty();
    }

    @Test
    void aTruncatedBodyIsResumedFromWhereItStopped() {
        reg.healthy();
        int half = reg.kernel.length / 2;
        // A response that ends early (as a proxy that dropped the connection cleanly would).
        reg.wm.stubFor(get(urlEqualTo(reg.kernelUrl())).inScenario("cut").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(200).withBody(Arrays.copyOf(reg.kernel, half))).willSetStateTo("rest"));
        reg.wm.stubFor(get(urlEqualTo(reg.kernelUrl())).inScenario("cut").whenScenarioStateIs("rest")
                .willReturn(FakeRegistry.blob(reg.kernel)));
        assertThat(pull().digest()).isEqualTo(Digests.of(reg.kernel));
        reg.wm.verify(getRequestedFor(urlEqualTo(reg.kernelUrl())).withHeader("Range", equalTo("bytes=" + half + "-")));
    }

    @Test
    void aServerThatIgnoresRangeIsReadFromTheStart() {
        reg.healthy();
        reg.wm.stubFor(get(urlEqualTo(reg.kernelUrl())).inScenario("cut").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(200).withBody(Arrays.copyOf(reg.kernel, 1000))).willSetStateTo("full"));
        // no range transformer: 200 with everything, whatever we ask for
        reg.wm.stubFor(get(urlEqualTo(reg.kernelUrl())).inScenario("cut").whenScenarioStateIs("full")
                .willReturn(aResponse().withStatus(200).withBody(reg.kernel)));
        assertThat(pull().digest()).isEqualTo(Digests.of(reg.kernel));
        assertThat(store.fsck()).isEmpty();
    }

    @Test
    void aKernelWithTheWrongDigestIsRejectedAndItsBytesDropped() throws Exception {
        reg.healthy();
        byte[] evil = reg.kernel.clone();
        evil[evil.length - 1] ^= 1;
        reg.wm.stubFor(get(urlEqualTo(reg.kernelUrl())).willReturn(FakeRegistry.blob(evil)));
        pullFails(Reason.REGISTRY, "digest mismatch: registry sent " + Digests.of(evil));
        assertThat(partialLength()).as("bad bytes are not kept for a resume").isZero();
    }

    @Test
    void aConfigWithTheWrongDigestIsRejected() throws Exception {
        reg.healthy();
        reg.wm.stubFor(get(urlEqualTo(reg.configUrl())).willReturn(FakeRegistry.blob(
                new String(reg.config).replace("\"vcpus\":1", "\"vcpus\":9").getBytes())));
        pullFails(Reason.REGISTRY, "digest mismatch");
        reg.wm.verify(0, getRequestedFor(urlEqualTo(reg.kernelUrl())));
    }

    @Test
    void aManifestThatDoesNotMatchItsDigestIsRejected() throws Exception {
        reg.healthy();
        String wrong = "sha256:" + "0".repeat(64);
        reg.wm.stubFor(get(urlEqualTo("/v2/" + FakeRegistry.REPO + "/manifests/" + wrong)).willReturn(reg.manifestResponse()));
        assertThatThrownBy(() -> transfer.pull(reg.host() + "/" + FakeRegistry.REPO + "@" + wrong, ProgressListener.NONE).join())
                .hasCauseInstanceOf(ImageException.class).hasMessageContaining("digest mismatch: manifest");
        assertUnchanged();
    }

    @Test
    void moreBytesThanTheManifestPromisedIsARegistryFault() throws Exception {
        reg.manifest = FakeRegistry.manifest(MediaTypes.CONFIG, Digests.of(reg.config), reg.config.length,
                Digests.of(reg.kernel), reg.kernel.length - 10);
        reg.healthy();
        pullFails(Reason.REGISTRY, "registry sent more than the " + (reg.kernel.length - 10) + " bytes");
    }

    @Test
    void aKernelOverTheLimitIsRefusedBeforeDownloading() throws Exception {
        reg.manifest = FakeRegistry.manifest(MediaTypes.CONFIG, Digests.of(reg.config), reg.config.length,
                Digests.of(reg.kernel), 10L << 30);
        reg.healthy();
        pullFails(Reason.TOO_LARGE, "over the limit");
        reg.wm.verify(0, getRequestedFor(urlEqualTo(reg.kernelUrl())));
    }

    @Test
    void anArtifactThatIsNotAXenopsImageIsRefused() throws Exception {
        reg.manifest = FakeRegistry.manifest("application/vnd.oci.image.config.v1+json", Digests.of(reg.config),
                reg.config.length, Digests.of(reg.kernel), reg.kernel.length);
        reg.healthy();
        pullFails(Reason.INVALID, "is not a xenops image: config media type");
    }

    @Test
    void aKernelThatIsNotAnElfIsRejectedAfterDownloadAndDeleted() throws Exception {
        byte[] notElf = new byte[4096];
        reg.manifest = FakeRegistry.manifest(MediaTypes.CONFIG, Digests.of(reg.config), reg.config.length,
                Digests.of(notElf), notElf.length);
        reg.healthy();
        reg.wm.stubFor(get(urlEqualTo("/v2/" + FakeRegistry.REPO + "/blobs/" + Digests.of(notElf))).willReturn(FakeRegistry.blob(notElf)));
        pullFails(Reason.INVALID, "not an ELF file");
        assertThat(store.root().resolve("partial/sha256").resolve(Digests.hex(Digests.of(notElf)))).doesNotExist();
    }

    @Test
    void unknownTagIsNotFound() throws Exception {
        reg.wm.stubFor(get(urlEqualTo(reg.manifestUrl())).willReturn(aResponse().withStatus(404)
                .withBody("{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}")));
        pullFails(Reason.NOT_FOUND, "MANIFEST_UNKNOWN");
    }

    /** Bearer auth as Docker Hub and distribution's token server do it, and a blob redirected to a CDN. */
    @Test
    void bearerTokenChallengeAndACredentialFreeRedirect() throws Exception {
        try (FakeRegistry cdn = new FakeRegistry(16)) {
            String realm = "http://" + reg.host() + "/token";
            String challenge = "Bearer realm=\"" + realm + "\",service=\"fake\",scope=\"repository:apps/hello:pull\"";
            for (String url : List.of(reg.manifestUrl(), reg.configUrl(), reg.kernelUrl())) {
                reg.wm.stubFor(get(urlEqualTo(url)).withHeader("Authorization", absent())
                        .willReturn(aResponse().withStatus(401).withHeader("WWW-Authenticate", challenge)));
            }
            reg.wm.stubFor(get(urlEqualTo(reg.manifestUrl())).withHeader("Authorization", equalTo("Bearer tok-1"))
                    .willReturn(reg.manifestResponse()));
            reg.wm.stubFor(get(urlEqualTo(reg.configUrl())).withHeader("Authorization", equalTo("Bearer tok-1"))
                    .willReturn(FakeRegistry.blob(reg.config)));
            reg.wm.stubFor(get(urlEqualTo(reg.kernelUrl())).withHeader("Authorization", equalTo("Bearer tok-1"))
                    .willReturn(aResponse().withStatus(307).withHeader("Location", "http://" + cdn.host() + "/cdn/kernel")));
            cdn.wm.stubFor(get(urlEqualTo("/cdn/kernel")).willReturn(FakeRegistry.blob(reg.kernel)));
            String basic = "Basic " + java.util.Base64.getEncoder().encodeToString("ci:s3cret".getBytes());
            reg.wm.stubFor(get(urlPathEqualTo("/token")).withHeader("Authorization", equalTo(basic))
                    .willReturn(okJson("{\"token\":\"tok-1\",\"expires_in\":300}")));
            reg.wm.stubFor(get(urlPathEqualTo("/token")).withHeader("Authorization", absent())
                    .willReturn(aResponse().withStatus(401)));

            // Without credentials: the token endpoint refuses, and the error says so.
            assertThatThrownBy(this::pull).isInstanceOfSatisfying(ImageException.class,
                    e -> assertThat(e.reason()).isEqualTo(Reason.UNAUTHORIZED)).hasMessageContaining("refused");
            assertUnchanged();

            try (RegistryClient authed = new RegistryClient(FAST.withCredentials(
                    host -> host.equals(reg.host()) ? Optional.of(new RegistryOptions.Credentials("ci", "s3cret")) : Optional.empty()));
                 ImageTransfer t = new ImageTransfer(store, authed)) {
                assertThat(t.pull(reg.ref(), ProgressListener.NONE).join().digest()).isEqualTo(Digests.of(reg.kernel));
            }
            // one token for the whole pull, and the CDN never saw it
            reg.wm.verify(1, getRequestedFor(urlPathEqualTo("/token")).withHeader("Authorization", equalTo(basic))
                    .withQueryParam("scope", equalTo("repository:apps/hello:pull")).withQueryParam("service", equalTo("fake")));
            cdn.wm.verify(1, getRequestedFor(urlEqualTo("/cdn/kernel")).withHeader("Authorization", absent()));
        }
    }

    /** A pull that dies mid-download (here: an exception from the store, as a crash would) resumes later. */
    @Test
    void aPullInterruptedMidDownloadResumesInTheNextStore() throws Exception {
        reg.healthy();
        AtomicInteger chunks = new AtomicInteger();
        StoreHooks dieAt3 = s -> {
            if (s == StoreHooks.Step.DOWNLOAD_CHUNK && chunks.incrementAndGet() == 3) throw new IllegalStateException("crash");
        };
        Path root = tmp.resolve("other");
        try (CasImageStore crashing = new CasImageStore(root, StoreOptions.defaults().withHooks(dieAt3));
             ImageTransfer t = new ImageTransfer(crashing, client)) {
            assertThatThrownBy(() -> t.pull(reg.ref(), ProgressListener.NONE).join()).hasRootCauseMessage("crash");
            assertThat(crashing.list()).isEmpty();
        }
        Path partial = root.resolve("partial/sha256").resolve(Digests.hex(Digests.of(reg.kernel)));
        long kept = Files.size(partial);
        assertThat(kept).isPositive().isLessThan(reg.kernel.length);
        reg.wm.resetRequests();
        try (CasImageStore next = new CasImageStore(root); ImageTransfer t = new ImageTransfer(next, client)) {
            List<Long> done = new CopyOnWriteArrayList<>();
            Image img = t.pull(reg.ref(), (d, total) -> done.add(d)).join();
            assertThat(img.digest()).isEqualTo(Digests.of(reg.kernel));
            assertThat(next.fsck()).isEmpty();
            assertThat(partial).doesNotExist();
            // the first kernel progress already counts what the crashed pull left
            assertThat(done.stream().filter(d -> d > reg.config.length).findFirst()).hasValueSatisfying(
                    d -> assertThat(d).isGreaterThanOrEqualTo(reg.config.length + kept));
        }
        reg.wm.verify(1, getRequestedFor(urlEqualTo(reg.kernelUrl())).withHeader("Range", equalTo("bytes=" + kept + "-")));
    }

    @Test
    void badReferencesFailFast() {
        for (String bad : List.of("hello", "hello:1", "127.0.0.1:5000/Apps/x", "127.0.0.1:5000/a/../b", "h.io/x:bad tag",
                "h.io/x@sha256:123", "h.io/x@md5:" + "0".repeat(32))) {
            assertThatThrownBy(() -> transfer.pull(bad, ProgressListener.NONE).join()).as(bad)
                    .hasCauseInstanceOf(ImageException.class);
        }
        assertThat(RemoteRef.parse("localhost:5000/a/b-c/d_e").tag()).isEqualTo("latest");
        assertThat(RemoteRef.parse("127.0.0.1:5000/apps/hello@sha256:" + "a".repeat(64)).reference()).startsWith("sha256:");
        assertThat(RegistryOptions.isLoopback("127.0.0.2")).isTrue();
        assertThat(RegistryOptions.isLoopback("::1")).isTrue();
        assertThat(RegistryOptions.isLoopback("10.0.0.1")).isFalse();
        assertThat(RegistryOptions.isLoopback("registry.example")).isFalse();
    }
}
