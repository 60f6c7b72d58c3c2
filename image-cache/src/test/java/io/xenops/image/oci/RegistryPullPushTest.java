package io.xenops.image.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xenops.image.BootMode;
import io.xenops.image.ChildJvm;
import io.xenops.image.Digests;
import io.xenops.image.Image;
import io.xenops.image.ImageException;
import io.xenops.image.ImageException.Reason;
import io.xenops.image.TestElf;
import io.xenops.image.store.CasImageStore;
import io.xenops.image.store.StoreOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/** Push and pull against a real registry (Debian's docker-registry) on loopback. */
class RegistryPullPushTest {
    @TempDir static Path registryDir;
    static LocalRegistry registry;

    @TempDir Path tmp;
    private CasImageStore source;
    private CasImageStore target;
    private RegistryClient client;
    private ImageTransfer push;
    private ImageTransfer pull;

    @BeforeAll
    static void startRegistry() throws Exception {
        registry = LocalRegistry.start(registryDir);
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) registry.close();
    }

    @BeforeEach
    void setUp() {
        source = new CasImageStore(tmp.resolve("source"));
        target = new CasImageStore(tmp.resolve("target"));
        client = new RegistryClient(RegistryOptions.defaults());
        push = new ImageTransfer(source, client);
        pull = new ImageTransfer(target, client);
    }

    @AfterEach
    void tearDown() {
        push.close();
        pull.close();
        client.close();
        source.close();
        target.close();
    }

    private Image importSynthetic(String name, String version, TestElf elf) {
        Path k = elf.write(tmp.resolve("src").resolve(name + "-" + version + ".elf"));
        return source.importImage(k, TestElf.manifest(name, version).getBytes(StandardCharsets.UTF_8), null);
    }

    private long kernelGets(String digest) throws IOException {
        return registry.accessLog().stream().filter(l -> l.contains("\"GET ") && l.contains("/blobs/" + digest)).count();
    }

    @Test
    void pushThenPullGivesTheSameImage() throws Exception {
        Image original = importSynthetic("hello", "1.0", TestElf.both().seed(1));
        String ref = registry.host() + "/apps/hello:1.0";
        List<long[]> pushed = new CopyOnWriteArrayList<>();
        ImageTransfer.PushResult r = push.push("hello:1.0", ref, (d, t) -> pushed.add(new long[] {d, t})).join();
        assertThat(r.reference()).isEqualTo(ref);
        assertThat(r.bytesUploaded()).isEqualTo(original.sizeBytes() + source.manifestBytes(source.inspect("hello").configDigest()).length);
        assertThat(pushed.getLast()).containsExactly(r.bytesUploaded(), r.bytesUploaded());

        // What the registry holds is an OCI artifact in our format.
        HttpResponse<byte[]> m = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(registry.url() + "/v2/apps/hello/manifests/1.0")).header("Accept", MediaTypes.OCI_MANIFEST).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(m.statusCode()).isEqualTo(200);
        assertThat(Digests.of(m.body())).isEqualTo(r.manifestDigest());
        JsonNode manifest = new ObjectMapper().readTree(m.body());
        assertThat(manifest.path("mediaType").asText()).isEqualTo(MediaTypes.OCI_MANIFEST);
        assertThat(manifest.path("artifactType").asText()).isEqualTo(MediaTypes.ARTIFACT);
        assertThat(manifest.path("config").path("mediaType").asText()).isEqualTo(MediaTypes.CONFIG);
        assertThat(manifest.path("layers")).hasSize(1);
        assertThat(manifest.path("layers").path(0).path("mediaType").asText()).isEqualTo(MediaTypes.KERNEL);
        assertThat(manifest.path("layers").path(0).path("digest").asText()).isEqualTo(original.digest());

        List<long[]> progress = new CopyOnWriteArrayList<>();
        Image pulled = pull.pull(ref, (d, t) -> progress.add(new long[] {d, t})).join();
        assertThat(pulled.name()).isEqualTo("hello");
        assertThat(pulled.version()).isEqualTo("1.0");
        assertThat(pulled.digest()).isEqualTo(original.digest());
        assertThat(pulled.bootModes()).containsExactly(BootMode.PVH, BootMode.PV);
        assertThat(pulled.memoryMiB()).isEqualTo(original.memoryMiB());
        assertThat(Digests.of(pulled.kernel())).isEqualTo(original.digest());
        assertThat(target.inspect("hello:1.0").configDigest()).isEqualTo(source.inspect("hello:1.0").configDigest());
        assertThat(target.inspect("hello:1.0").source()).isEqualTo(registry.host() + "/apps/hello@" + r.manifestDigest());
        assertThat(progress.getLast()[0]).isEqualTo(progress.getLast()[1]).isEqualTo(r.bytesUploaded());
        assertThat(target.fsck()).isEmpty();

        // Pushing again sends no blob and gives the same manifest digest; pulling by digest works too.
        ImageTransfer.PushResult again = push.push("hello:1.0", ref, ProgressListener.NONE).join();
        assertThat(again.bytesUploaded()).isZero();
        assertThat(again.manifestDigest()).isEqualTo(r.manifestDigest());
        try (CasImageStore third = new CasImageStore(tmp.resolve("third")); ImageTransfer t = new ImageTransfer(third, client)) {
            Image byDigest = t.pull(registry.host() + "/apps/hello@" + r.manifestDigest(), ProgressListener.NONE).join();
            assertThat(byDigest.digest()).isEqualTo(original.digest());
            assertThat(byDigest.version()).isEqualTo("1.0"); // from the manifest's version
        }
    }

    @Test
    void pushUsesTheLocalTagWhenTheReferenceHasNone() {
        importSynthetic("tagless", "7", TestElf.pvhOnly().seed(2));
        ImageTransfer.PushResult r = push.push("tagless:7", registry.host() + "/apps/tagless", ProgressListener.NONE).join();
        assertThat(r.reference()).endsWith("/apps/tagless:7");
        assertThat(pull.pull(registry.host() + "/apps/tagless:7", ProgressListener.NONE).join().bootModes())
                .containsExactly(BootMode.PVH);
    }

    @Test
    void anUnknownTagIsNotFoundAndChangesNothing() {
        assertThatThrownBy(() -> pull.pull(registry.host() + "/apps/nothing:here", ProgressListener.NONE).join())
                .isInstanceOf(CompletionException.class)
                .cause().isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NOT_FOUND));
        assertThat(target.list()).isEmpty();
        assertThatThrownBy(() -> push.push("nope:1", registry.host() + "/apps/nope:1", ProgressListener.NONE).join())
                .cause().isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NOT_FOUND));
    }

    /** Six callers, one download; and a second store on the same root waits for the first's download. */
    @Test
    void concurrentPullsOfOneImageDownloadItOnce() throws Exception {
        Image original = importSynthetic("busy", "1", TestElf.both().seed(3).payload(2 << 20));
        String ref = registry.host() + "/apps/busy:1";
        push.push("busy:1", ref, ProgressListener.NONE).join();
        long before = kernelGets(original.digest());

        try (CasImageStore sameRoot = new CasImageStore(tmp.resolve("target"));
             ImageTransfer other = new ImageTransfer(sameRoot, client)) {
            List<CompletableFuture<Image>> futures = new ArrayList<>();
            AtomicLong lastSeen = new AtomicLong();
            for (int i = 0; i < 6; i++) futures.add(pull.pull(ref, (d, t) -> lastSeen.accumulateAndGet(d, Math::max)));
            assertThat(pull.pullsInFlight()).isLessThanOrEqualTo(1);
            futures.add(other.pull(ref, ProgressListener.NONE));
            futures.getFirst().cancel(true); // one caller giving up does not cancel the others
            for (CompletableFuture<Image> f : futures.subList(1, futures.size())) {
                assertThat(f.join().digest()).isEqualTo(original.digest());
            }
            assertThat(lastSeen.get()).isGreaterThanOrEqualTo(original.sizeBytes());
        }
        assertThat(kernelGets(original.digest()) - before).isEqualTo(1);
        assertThat(pull.pullsInFlight()).isZero();
        assertThat(target.fsck()).isEmpty();
    }

    /** A pulling process killed mid-download: the next pull asks the registry only for the rest. */
    @Test
    void aKilledPullResumesWithARangeRequest() throws Exception {
        Image original = importSynthetic("big", "1", TestElf.both().seed(4).payload(8 << 20));
        String ref = registry.host() + "/apps/big:1";
        push.push("big:1", ref, ProgressListener.NONE).join();
        Path root = tmp.resolve("killed");
        Path partial = root.resolve("partial/sha256").resolve(Digests.hex(original.digest()));
        try (ChildJvm child = ChildJvm.start("pull", root.toString(), ref, "40")) {
            child.await("AT CHUNK 40", 120);
            child.kill();
        }
        long kept = Files.size(partial);
        assertThat(kept).isPositive().isLessThan(original.sizeBytes());
        try (CasImageStore store = new CasImageStore(root); ImageTransfer t = new ImageTransfer(store, client)) {
            assertThat(store.list()).isEmpty();
            assertThat(store.fsck()).isEmpty();
            Image img = t.pull(ref, ProgressListener.NONE).join();
            assertThat(img.digest()).isEqualTo(original.digest());
            assertThat(store.fsck()).isEmpty();
        }
        assertThat(partial).doesNotExist();
        long rest = original.sizeBytes() - kept;
        assertThat(registry.accessLog()).anySatisfy(l -> assertThat(l)
                .contains("/blobs/" + original.digest()).contains("\" 206 " + rest + " "));
    }

    @TestFactory
    Stream<DynamicTest> theRealUnikernelImagesRoundTrip() throws IOException {
        Path images = TestElf.realImages();
        if (!Files.isDirectory(images)) return Stream.empty();
        List<Path> apps;
        try (Stream<Path> s = Files.list(images)) {
            apps = s.filter(p -> Files.isRegularFile(p.resolve("kernel.elf"))).sorted().toList();
        }
        return apps.stream().map(app -> dynamicTest(app.getFileName().toString(), () -> {
            Image img = source.importImage(app.resolve("kernel.elf"), app.resolve("manifest.json"));
            String ref = registry.host() + "/xenops/" + img.name() + ":" + img.version();
            push.push(img.name() + ":" + img.version(), ref, ProgressListener.NONE).join();
            Image back = pull.pull(ref, ProgressListener.NONE).join();
            assertThat(back.digest()).isEqualTo(Digests.of(app.resolve("kernel.elf")));
            assertThat(back.bootModes()).containsExactly(BootMode.PVH, BootMode.PV);
        }));
    }

    /** Import, push and pull of a 32 MiB kernel, timed; the figures go to target/image-throughput.txt. */
    @Test
    void throughput() throws Exception {
        int size = 32 << 20;
        Path k = TestElf.both().seed(5).payload(size).write(tmp.resolve("big.elf"));
        byte[] manifest = TestElf.manifest("fat", "1").getBytes(StandardCharsets.UTF_8);
        long t0 = System.nanoTime();
        Image img = source.importImage(k, manifest, null);
        long t1 = System.nanoTime();
        push.push("fat:1", registry.host() + "/apps/fat:1", ProgressListener.NONE).join();
        long t2 = System.nanoTime();
        Image back = pull.pull(registry.host() + "/apps/fat:1", ProgressListener.NONE).join();
        long t3 = System.nanoTime();
        assertThat(back.digest()).isEqualTo(img.digest());
        double mib = img.sizeBytes() / (double) (1 << 20);
        String report = String.format(Locale.ROOT,
                "image-cache throughput, %.1f MiB kernel, loopback docker-registry, %d cores:%n"
                        + "  import (copy+sha256+fsync+ELF check): %.0f MiB/s%n  push: %.0f MiB/s%n"
                        + "  pull (download+sha256+fsync+ELF check): %.0f MiB/s%n",
                mib, Runtime.getRuntime().availableProcessors(),
                mib / ((t1 - t0) / 1e9), mib / ((t2 - t1) / 1e9), mib / ((t3 - t2) / 1e9));
        System.out.print(report);
        Files.writeString(Path.of("target", "image-throughput.txt"), report);
        // A floor far below what any sane disk and loopback give: it catches per-chunk fsyncs and the like.
        assertThat(mib / ((t1 - t0) / 1e9)).isGreaterThan(4);
        assertThat(mib / ((t3 - t2) / 1e9)).isGreaterThan(4);
        try (CasImageStore s = new CasImageStore(tmp.resolve("source"), StoreOptions.defaults())) {
            assertThat(s.fsck()).isEmpty();
        }
    }
}
