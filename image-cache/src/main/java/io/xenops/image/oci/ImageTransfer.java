package io.xenops.image.oci;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.xenops.image.Image;
import io.xenops.image.ImageException;
import io.xenops.image.ImageException.Reason;
import io.xenops.image.ImageRef;
import io.xenops.image.Manifest;
import io.xenops.image.manifest.ManifestValidator;
import io.xenops.image.store.CasImageStore;
import io.xenops.image.store.ImageDetails;
import io.xenops.image.store.PartialBlob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Pull and push between a {@link CasImageStore} and OCI registries. The API is what the REST handlers and
 * the CLI call; both are thin on top of it:
 * <pre>
 *   transfer.pull("127.0.0.1:5000/apps/hello:0.1.0", (done, total) -> bar.update(done, total))
 *           .thenAccept(image -> ...);
 * </pre>
 * Concurrent pulls of one reference share one download: every caller gets its own future (cancelling it
 * does not cancel the others) and its listener sees the shared progress. Pulls of the same blob from two
 * processes are serialised by the blob's partial-file lock, so the second finds the blob done.
 */
public final class ImageTransfer implements AutoCloseable {
    private static final String TITLE = "org.opencontainers.image.title";
    private static final String VERSION = "org.opencontainers.image.version";

    private final CasImageStore store;
    private final RegistryClient client;
    private final Executor executor;
    private final ExecutorService ownedExecutor;
    private final ManifestValidator manifests = new ManifestValidator();
    private final ObjectMapper json = JsonMapper.builder().build();
    private final Map<String, Inflight> inflight = new ConcurrentHashMap<>();

    /** What a push did. */
    public record PushResult(String reference, String manifestDigest, long bytesUploaded) { }

    /** @param executor runs each transfer as one blocking task (virtual threads suit it) */
    public ImageTransfer(CasImageStore store, RegistryClient client, Executor executor) {
        this.store = store;
        this.client = client;
        this.executor = executor;
        this.ownedExecutor = null;
    }

    /** Runs transfers on virtual threads owned (and shut down) by this instance. */
    public ImageTransfer(CasImageStore store, RegistryClient client) {
        this.store = store;
        this.client = client;
        this.ownedExecutor = Executors.newVirtualThreadPerTaskExecutor();
        this.executor = ownedExecutor;
    }

    /** Pulls {@code remote} and stores it under the config's name and the remote tag (or its version). */
    public CompletableFuture<Image> pull(String remote, ProgressListener listener) {
        return pull(remote, null, listener);
    }

    /**
     * Pulls {@code remote}; stores it as {@code as} when given. Joins a pull of the same reference already in
     * flight in this instance.
     */
    public CompletableFuture<Image> pull(String remote, ImageRef as, ProgressListener listener) {
        RemoteRef ref;
        try {
            ref = RemoteRef.parse(remote);
        } catch (ImageException e) {
            return CompletableFuture.failedFuture(e);
        }
        String key = ref + " as " + as;
        Inflight mine = new Inflight();
        Inflight running = inflight.putIfAbsent(key, mine);
        Inflight shared = running != null ? running : mine;
        shared.listen(listener);
        if (running == null) {
            mine.future.whenComplete((v, e) -> inflight.remove(key, mine));
            executor.execute(() -> {
                try {
                    Image image;
                    try {
                        image = doPull(ref, as, mine);
                    } catch (ImageException e) {
                        // A blob we found present was collected by another process before we committed: once more.
                        if (e.reason() != Reason.CONFLICT) throw e;
                        image = doPull(ref, as, mine);
                    }
                    // Out of the map before completing: callers resume as soon as the future completes, and a
                    // retry right after a failure must start a new pull, not join the finished one.
                    inflight.remove(key, mine);
                    mine.future.complete(image);
                } catch (Throwable t) {
                    inflight.remove(key, mine);
                    mine.future.completeExceptionally(t);
                }
            });
        }
        return shared.future.copy();
    }

    /** Number of distinct pulls in flight (for tests and the daemon's metrics). */
    public int pullsInFlight() { return inflight.size(); }

    private Image doPull(RemoteRef ref, ImageRef as, Inflight progress) throws IOException {
        RegistryClient.FetchedManifest fetched = client.manifest(ref);
        OciManifest m = parseManifest(fetched, ref);
        OciManifest.Descriptor config = m.config();
        OciManifest.Descriptor kernel = m.layers().getFirst();
        long maxKernel = store.options().maxImageBytes();
        if (kernel.size() > maxKernel) {
            throw new ImageException(Reason.TOO_LARGE, ref + ": kernel layer is " + kernel.size()
                    + " bytes, over the limit of " + maxKernel + " bytes");
        }
        boolean haveKernel = store.blob(kernel.digest()).isPresent();
        long total = config.size() + (haveKernel ? 0 : kernel.size());
        progress.report(0, total);
        byte[] configBytes = client.smallBlob(ref, config, ManifestValidator.MAX_BYTES);
        progress.report(config.size(), total);
        // Fail on a bad manifest before spending a download on its kernel.
        Manifest manifest = manifests.parse(configBytes, ref + " config");
        ImageRef target = as != null ? as : new ImageRef(manifest.name(),
                ref.tag() != null ? ref.tag() : manifest.version() != null ? manifest.version() : ImageRef.LATEST);
        String source = ref.registry() + "/" + ref.repository() + "@" + fetched.digest();
        if (!haveKernel) {
            Optional<PartialBlob> partial = store.openPartial(kernel.digest(), kernel.size());
            if (partial.isPresent()) {
                try (PartialBlob p = partial.get()) {
                    client.download(ref, kernel, p, bytes -> progress.report(config.size() + bytes, total));
                    // Committed while the partial is still locked: a waiter in another process then finds the blob.
                    return store.commitPulled(target, kernel.digest(), p, configBytes, source);
                }
            }
        }
        Image image = store.commitPulled(target, kernel.digest(), null, configBytes, source);
        progress.report(total, total);
        return image;
    }

    private OciManifest parseManifest(RegistryClient.FetchedManifest fetched, RemoteRef ref) {
        OciManifest m;
        try {
            m = json.readValue(fetched.bytes(), OciManifest.class);
        } catch (IOException e) {
            throw new ImageException(Reason.INVALID, ref + ": manifest is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        String type = m.mediaType() != null ? m.mediaType() : fetched.mediaType();
        if (m.schemaVersion() != 2 || !type.startsWith(MediaTypes.OCI_MANIFEST)) {
            throw new ImageException(Reason.INVALID, ref + " is not an OCI image manifest (media type '" + type
                    + "'); an image index or a Docker manifest is not a xenops image");
        }
        if (m.config() == null || !MediaTypes.CONFIG.equals(m.config().mediaType())) {
            throw new ImageException(Reason.INVALID, ref + " is not a xenops image: config media type is '"
                    + (m.config() == null ? null : m.config().mediaType()) + "', expected " + MediaTypes.CONFIG);
        }
        List<OciManifest.Descriptor> layers = m.layers() == null ? List.of() : m.layers();
        if (layers.size() != 1 || !MediaTypes.KERNEL.equals(layers.getFirst().mediaType())) {
            throw new ImageException(Reason.INVALID, ref + " is not a xenops image: it must have exactly one layer of type "
                    + MediaTypes.KERNEL + ", it has " + layers.stream().map(OciManifest.Descriptor::mediaType).toList());
        }
        for (OciManifest.Descriptor d : List.of(m.config(), layers.getFirst())) {
            io.xenops.image.Digests.hex(d.digest()); // a digest becomes a file name: only sha256 hex passes
            if (d.size() < 0) throw new ImageException(Reason.INVALID, ref + ": negative blob size");
        }
        return m;
    }

    /**
     * Pushes the local image {@code local} to {@code remote} (tag from the remote reference, else the local
     * tag). Blobs the registry already has are not sent again. The image is pinned while it uploads so that
     * a concurrent gc cannot delete its blobs.
     */
    public CompletableFuture<PushResult> push(String local, String remote, ProgressListener listener) {
        CompletableFuture<PushResult> f = new CompletableFuture<>();
        executor.execute(() -> {
            try {
                f.complete(doPush(local, remote, listener));
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    private PushResult doPush(String local, String remote, ProgressListener callerListener) {
        // A retried upload counts from zero again; the caller's bar should not go backwards.
        AtomicLong high = new AtomicLong();
        ProgressListener listener = (d, t) -> {
            if (d >= high.get()) {
                high.accumulateAndGet(d, Math::max);
                callerListener.progress(d, t);
            }
        };
        try (CasImageStore.Pin pin = store.pin(local)) {
            ImageDetails d = store.inspect(local);
            RemoteRef parsed = RemoteRef.parse(remote);
            RemoteRef ref = remote.substring(remote.indexOf('/') + 1).contains(":") || parsed.digest() != null
                    ? parsed : parsed.withTag(pin.image().version());
            if (ref.digest() != null) throw new ImageException(Reason.INVALID, "push needs a tag, not a digest: " + remote);
            byte[] config = store.manifestBytes(d.configDigest());
            Path kernel = pin.image().kernel();
            long kernelSize = Files.size(kernel);
            boolean sendConfig = !client.blobExists(ref, d.configDigest());
            boolean sendKernel = !client.blobExists(ref, d.image().digest());
            long total = (sendConfig ? config.length : 0) + (sendKernel ? kernelSize : 0);
            AtomicLong done = new AtomicLong();
            listener.progress(0, total);
            if (sendConfig) {
                Path configFile = store.blob(d.configDigest()).orElseThrow();
                client.upload(ref, d.configDigest(), config.length, configFile, n -> listener.progress(Math.min(n, config.length), total));
                done.addAndGet(config.length);
            }
            if (sendKernel) {
                long base = done.get();
                client.upload(ref, d.image().digest(), kernelSize, kernel, n -> listener.progress(base + Math.min(n, kernelSize), total));
                done.addAndGet(kernelSize);
            }
            byte[] manifest = ociManifest(d, config.length, kernelSize);
            String digest = client.putManifest(ref, manifest);
            listener.progress(total, total);
            return new PushResult(ref.toString(), digest, done.get());
        } catch (IOException e) {
            throw new ImageException(Reason.STORAGE, "cannot read " + local + " for push: " + e, e);
        }
    }

    /** The OCI manifest for an image. No timestamp: pushing the same image twice gives the same digest. */
    byte[] ociManifest(ImageDetails d, long configSize, long kernelSize) throws IOException {
        Map<String, String> annotations = new TreeMap<>();
        annotations.put(TITLE, d.image().name());
        if (!d.image().version().isEmpty()) annotations.put(VERSION, d.image().version());
        OciManifest m = new OciManifest(2, MediaTypes.OCI_MANIFEST, MediaTypes.ARTIFACT,
                new OciManifest.Descriptor(MediaTypes.CONFIG, d.configDigest(), configSize, null),
                List.of(new OciManifest.Descriptor(MediaTypes.KERNEL, d.image().digest(), kernelSize, Map.of(TITLE, "kernel.elf"))),
                annotations);
        return json.writeValueAsBytes(m);
    }

    /** A pull in flight: its future and the listeners of everyone waiting on it. */
    private static final class Inflight {
        final CompletableFuture<Image> future = new CompletableFuture<>();
        private final List<ProgressListener> listeners = new CopyOnWriteArrayList<>();
        private volatile long done = -1;
        private volatile long total = -1;

        void listen(ProgressListener l) {
            listeners.add(l);
            long d = done, t = total;
            if (d >= 0) call(l, d, t); // a late joiner starts from where the pull is
        }

        void report(long d, long t) {
            done = d;
            total = t;
            for (ProgressListener l : listeners) call(l, d, t);
        }

        /** One caller's broken progress bar must not fail the download everyone shares. */
        private static void call(ProgressListener l, long d, long t) {
            try {
                l.progress(d, t);
            } catch (RuntimeException ignored) {
                // the listener's problem, not the pull's
            }
        }
    }

    @Override
    public void close() {
        if (ownedExecutor != null) ownedExecutor.shutdownNow();
    }
}
