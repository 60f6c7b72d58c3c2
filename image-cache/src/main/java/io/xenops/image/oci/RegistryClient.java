package io.xenops.image.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xenops.image.Digests;
import io.xenops.image.ImageException;
import io.xenops.image.ImageException.Reason;
import io.xenops.image.store.PartialBlob;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpResponse.BodySubscribers;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small client for the OCI distribution API (v2) on the JDK's HttpClient: manifests, blobs, monolithic
 * uploads, Bearer-token and Basic auth. docs/images.md says why not the ORAS Java SDK.
 *
 * <p>Calls block; {@link ImageTransfer} runs them on virtual threads and hands out futures. Every call
 * retries what a retry can fix (5xx, 429, timeouts, broken connections) and maps the rest to an
 * {@link ImageException} whose {@link Reason} says what failed.
 */
public final class RegistryClient implements AutoCloseable {
    /** A manifest is a few hundred bytes; anything near this is not one of ours. */
    static final int MAX_MANIFEST_BYTES = 4 << 20;
    private static final int MAX_REDIRECTS = 5;
    private static final Pattern CHALLENGE_PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

    private final RegistryOptions options;
    private final HttpClient http;
    private final ScheduledExecutorService watchdog;
    private final ObjectMapper json = new ObjectMapper();
    /** Bearer tokens by registry + repository; an expired one earns a 401 and is replaced. */
    private final Map<String, String> tokens = new ConcurrentHashMap<>();

    public RegistryClient(RegistryOptions options) {
        this.options = options;
        this.http = HttpClient.newBuilder()
                .connectTimeout(options.connectTimeout())
                // Redirects are followed by hand so that credentials never travel to another host.
                .followRedirects(HttpClient.Redirect.NEVER)
                // HTTP/1.1: registries speak it everywhere, and a cancelled h2 stream hides the cause of a
                // failed download behind "stream cancelled".
                .version(HttpClient.Version.HTTP_1_1)
                .build();
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "registry-idle-watchdog");
            t.setDaemon(true);
            return t;
        });
    }

    public RegistryOptions options() { return options; }

    /** A manifest as fetched: its bytes, their digest, and the media type the registry gave. */
    public record FetchedManifest(byte[] bytes, String digest, String mediaType) { }

    /** Fetches a manifest by tag or digest; a digest reference must match what arrives. */
    public FetchedManifest manifest(RemoteRef ref) {
        URI uri = uri(ref, "/manifests/" + ref.reference());
        Response<byte[]> r = withRetries("GET " + uri, () -> exchange(ref, "pull",
                () -> HttpRequest.newBuilder(uri).GET().header("Accept", MediaTypes.OCI_MANIFEST),
                limited(MAX_MANIFEST_BYTES)));
        if (r.status() == 404) throw new ImageException(Reason.NOT_FOUND, "registry has no manifest " + ref + errorCode(r));
        expect(r, 200, "GET " + uri);
        String digest = Digests.of(r.body());
        if (ref.digest() != null && !ref.digest().equals(digest)) {
            throw new ImageException(Reason.REGISTRY, "digest mismatch: manifest " + ref + " hashes to " + digest);
        }
        return new FetchedManifest(r.body(), digest, r.headers().firstValue("Content-Type").orElse(""));
    }

    /** Fetches a small blob (a config) into memory and checks its size and digest. */
    public byte[] smallBlob(RemoteRef repo, OciManifest.Descriptor d, int max) {
        if (d.size() > max) throw new ImageException(Reason.TOO_LARGE, "blob " + d.digest() + " is " + d.size() + " bytes, over " + max);
        URI uri = uri(repo, "/blobs/" + d.digest());
        Response<byte[]> r = withRetries("GET " + uri, () -> followRedirects(repo, uri, limited(max)));
        if (r.status() == 404) throw new ImageException(Reason.NOT_FOUND, "registry has no blob " + d.digest() + " in " + repo.repository());
        expect(r, 200, "GET " + uri);
        String actual = Digests.of(r.body());
        if (r.body().length != d.size() || !actual.equals(d.digest())) {
            throw new ImageException(Reason.REGISTRY, "digest mismatch: registry sent " + actual + " (" + r.body().length
                    + " bytes) for blob " + d.digest() + " (" + d.size() + " bytes)");
        }
        return r.body();
    }

    /**
     * Downloads a blob into {@code target}, resuming from what it holds with an HTTP Range, retrying broken
     * or stalled transfers from where they stopped, and verifying size and digest at the end.
     *
     * @param progress receives the bytes on disk after every chunk
     */
    public void download(RemoteRef repo, OciManifest.Descriptor d, PartialBlob target, LongConsumer progress) {
        URI uri = uri(repo, "/blobs/" + d.digest());
        String what = "GET " + uri;
        int attempt = 0;
        Exception last = null;
        while (target.length() < d.size()) {
            long before = target.length();
            attempt++;
            java.util.concurrent.atomic.AtomicReference<BlobSubscriber> sub = new java.util.concurrent.atomic.AtomicReference<>();
            try {
                Response<Long> r = followRedirects(repo, uri, target.length(), info -> blobHandler(info, target, progress, sub));
                if (r.status() == 404) throw new ImageException(Reason.NOT_FOUND, "registry has no blob " + d.digest());
                if (r.status() == 416) {
                    // Our partial is not a prefix the server recognises: start over.
                    target.restart();
                    last = new IOException("416 Range Not Satisfiable");
                } else if (retryable(r.status())) {
                    last = new IOException(what + ": HTTP " + r.status());
                } else {
                    expect(r, r.status() == 206 ? 206 : 200, what);
                    if (target.length() < d.size()) {
                        last = new IOException("connection closed after " + target.length() + " of " + d.size() + " bytes");
                    }
                }
            } catch (IOException e) {
                // When we cancelled the exchange, the client reports its own "cancelled": our reason is the real one.
                Throwable ours = sub.get() == null ? null : sub.get().failure();
                if (ours instanceof RuntimeException re) throw re;
                if (ours instanceof Error err) throw err;
                last = ours instanceof IOException io ? io : e;
            }
            if (target.length() >= d.size()) break;
            if (target.length() > before) attempt = 0; // progress: a flaky link is not a dead one
            if (attempt >= options.maxAttempts()) {
                throw new ImageException(Reason.REGISTRY, what + " failed after " + attempt + " attempts at "
                        + target.length() + " of " + d.size() + " bytes: " + describe(last), last);
            }
            backoff(attempt);
        }
        try {
            target.verify();
        } catch (IOException e) {
            throw new ImageException(Reason.STORAGE, "cannot finish download of " + d.digest() + ": " + e, e);
        }
    }

    /** Whether the registry has this blob in this repository. */
    public boolean blobExists(RemoteRef repo, String digest) {
        URI uri = uri(repo, "/blobs/" + digest);
        Response<byte[]> r = withRetries("HEAD " + uri, () -> exchange(repo, "pull",
                () -> HttpRequest.newBuilder(uri).method("HEAD", HttpRequest.BodyPublishers.noBody()), limited(0)));
        if (r.status() == 404) return false;
        expect(r, 200, "HEAD " + uri);
        return true;
    }

    /** Uploads a blob in one PUT (POST for a session, PUT with the digest); a failure restarts the session. */
    public void upload(RemoteRef repo, String digest, long size, Path file, LongConsumer progress) {
        String what = "upload of " + digest + " to " + repo.registry() + "/" + repo.repository();
        withRetries(what, () -> {
            URI start = uri(repo, "/blobs/uploads/");
            Response<byte[]> s = exchange(repo, "push,pull",
                    () -> HttpRequest.newBuilder(start).POST(HttpRequest.BodyPublishers.noBody()), limited(64 * 1024));
            if (retryable(s.status())) return s;
            expect(s, 202, "POST " + start);
            String location = s.headers().firstValue("Location")
                    .orElseThrow(() -> new ImageException(Reason.REGISTRY, "POST " + start + ": no Location header"));
            URI put = withQuery(start.resolve(location), "digest=" + URLEncoder.encode(digest, StandardCharsets.UTF_8));
            Response<byte[]> p = exchange(repo, "push,pull", () -> HttpRequest.newBuilder(put)
                    .header("Content-Type", "application/octet-stream")
                    .PUT(CountingPublisher.ofFile(file, size, progress)), limited(64 * 1024));
            if (!retryable(p.status())) expect(p, 201, "PUT " + put);
            return p;
        });
    }

    /** Puts a manifest under a tag; returns the digest the registry reports, checked against ours. */
    public String putManifest(RemoteRef ref, byte[] manifest) {
        URI uri = uri(ref, "/manifests/" + ref.reference());
        Response<byte[]> r = withRetries("PUT " + uri, () -> exchange(ref, "push,pull", () -> HttpRequest.newBuilder(uri)
                .header("Content-Type", MediaTypes.OCI_MANIFEST)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(manifest)), limited(64 * 1024)));
        expect(r, 201, "PUT " + uri);
        String ours = Digests.of(manifest);
        Optional<String> theirs = r.headers().firstValue("Docker-Content-Digest");
        if (theirs.isPresent() && !theirs.get().equals(ours)) {
            throw new ImageException(Reason.REGISTRY, "registry stored manifest " + ref + " as " + theirs.get() + ", expected " + ours);
        }
        return ours;
    }

    // ------------------------------------------------------------------------------------------ plumbing

    record Response<T>(int status, HttpHeaders headers, T body) { }

    @FunctionalInterface
    private interface Call<T> {
        Response<T> run() throws IOException;
    }

    /** Retries 5xx, 429 and I/O failures with exponential backoff; anything else is final. */
    private <T> Response<T> withRetries(String what, Call<T> call) {
        Exception last = null;
        for (int attempt = 1; ; attempt++) {
            try {
                Response<T> r = call.run();
                if (!retryable(r.status())) return r;
                last = new IOException("HTTP " + r.status());
            } catch (IOException e) {
                last = e;
            }
            if (attempt >= options.maxAttempts()) {
                throw new ImageException(Reason.REGISTRY, what + " failed after " + attempt + " attempts: " + describe(last), last);
            }
            backoff(attempt);
        }
    }

    private static boolean retryable(int status) { return status >= 500 || status == 429 || status == 408; }

    private void backoff(int attempt) {
        long ms = options.retryBackoff().toMillis() << Math.min(attempt - 1, 6);
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageException(Reason.REGISTRY, "interrupted while retrying", e);
        }
    }

    /** GET that follows redirects itself, sending credentials only to the registry's own host. */
    private <T> Response<T> followRedirects(RemoteRef repo, URI uri, BodyHandler<T> handler) throws IOException {
        return followRedirects(repo, uri, 0, handler);
    }

    /** @param rangeFrom when positive, asks for the bytes from there on ({@code Range: bytes=N-}) */
    private <T> Response<T> followRedirects(RemoteRef repo, URI uri, long rangeFrom, BodyHandler<T> handler)
            throws IOException {
        URI at = uri;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            URI target = at;
            boolean sameHost = target.getAuthority().equalsIgnoreCase(uri.getAuthority());
            BodyHandler<T> h = info -> info.statusCode() / 100 == 3 ? discard(null) : handler.apply(info);
            RequestFactory get = () -> {
                HttpRequest.Builder b = HttpRequest.newBuilder(target).GET();
                if (rangeFrom > 0) b.header("Range", "bytes=" + rangeFrom + "-");
                return b;
            };
            Response<T> r = sameHost ? exchange(repo, "pull", get, h) : send(build(get, null), h);
            if (r.status() / 100 != 3) return r;
            Optional<String> loc = r.headers().firstValue("Location");
            if (loc.isEmpty()) return r;
            at = target.resolve(loc.get());
        }
        throw new ImageException(Reason.REGISTRY, "more than " + MAX_REDIRECTS + " redirects for " + uri);
    }

    /**
     * One request with auth: sends with a cached token if any; on a 401 answers the challenge (Bearer token
     * from the realm, or Basic with configured credentials) and sends once more.
     */
    private <T> Response<T> exchange(RemoteRef repo, String actions, RequestFactory factory, BodyHandler<T> handler)
            throws IOException {
        String tokenKey = repo.registry() + "/" + repo.repository() + " " + actions;
        String auth = tokens.get(tokenKey);
        BodyHandler<T> h = info -> info.statusCode() == 401 ? discard(null) : handler.apply(info);
        Response<T> r = send(build(factory, auth), h);
        if (r.status() != 401) return r;
        List<String> challenges = r.headers().allValues("WWW-Authenticate");
        String answer = answer(repo, challenges, tokenKey);
        r = send(build(factory, answer), h);
        if (r.status() == 401 || r.status() == 403) {
            tokens.remove(tokenKey);
            throw new ImageException(Reason.UNAUTHORIZED, "registry " + repo.registry() + " refused our credentials for "
                    + repo.repository() + " (" + actions + ")");
        }
        return r;
    }

    @FunctionalInterface
    private interface RequestFactory {
        HttpRequest.Builder create();
    }

    private HttpRequest build(RequestFactory factory, String authorization) {
        HttpRequest.Builder b = factory.create().timeout(options.requestTimeout());
        if (authorization != null) b.header("Authorization", authorization);
        return b.build();
    }

    private String answer(RemoteRef repo, List<String> challenges, String tokenKey) throws IOException {
        Optional<RegistryOptions.Credentials> creds = options.credentials().apply(repo.registry());
        for (String c : challenges) {
            String scheme = c.trim().split("\\s+", 2)[0];
            if (scheme.equalsIgnoreCase("Bearer")) {
                Map<String, String> p = params(c);
                String realm = p.get("realm");
                if (realm == null) continue;
                String token = fetchToken(URI.create(realm), p.get("service"), p.get("scope"), creds);
                String header = "Bearer " + token;
                tokens.put(tokenKey, header);
                return header;
            }
            if (scheme.equalsIgnoreCase("Basic") && creds.isPresent()) {
                String header = basic(creds.get());
                tokens.put(tokenKey, header);
                return header;
            }
        }
        throw new ImageException(Reason.UNAUTHORIZED, "registry " + repo.registry() + " wants authentication ("
                + String.join(", ", challenges) + ")" + (creds.isEmpty() ? " and no credentials are configured for it" : ""));
    }

    private String fetchToken(URI realm, String service, String scope, Optional<RegistryOptions.Credentials> creds)
            throws IOException {
        List<String> q = new ArrayList<>();
        if (service != null) q.add("service=" + URLEncoder.encode(service, StandardCharsets.UTF_8));
        if (scope != null) q.add("scope=" + URLEncoder.encode(scope, StandardCharsets.UTF_8));
        URI uri = q.isEmpty() ? realm : withQuery(realm, String.join("&", q));
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).GET().timeout(options.requestTimeout());
        creds.ifPresent(c -> b.header("Authorization", basic(c)));
        Response<byte[]> r = send(b.build(), limited(64 * 1024));
        if (r.status() == 401 || r.status() == 403) {
            throw new ImageException(Reason.UNAUTHORIZED, "token endpoint " + realm + " refused us (HTTP " + r.status() + ")");
        }
        if (r.status() != 200) throw new IOException("token endpoint " + realm + ": HTTP " + r.status());
        JsonNode body = json.readTree(r.body());
        String token = body.hasNonNull("token") ? body.get("token").asText() : body.path("access_token").asText(null);
        if (token == null || token.isEmpty()) {
            throw new ImageException(Reason.UNAUTHORIZED, "token endpoint " + realm + " answered without a token");
        }
        return token;
    }

    private static String basic(RegistryOptions.Credentials c) {
        return "Basic " + Base64.getEncoder().encodeToString((c.username() + ":" + c.password()).getBytes(StandardCharsets.UTF_8));
    }

    private static Map<String, String> params(String challenge) {
        Map<String, String> p = new LinkedHashMap<>();
        Matcher m = CHALLENGE_PARAM.matcher(challenge);
        while (m.find()) p.put(m.group(1).toLowerCase(java.util.Locale.ROOT), m.group(2));
        return p;
    }

    private <T> Response<T> send(HttpRequest req, BodyHandler<T> handler) throws IOException {
        try {
            HttpResponse<T> r = http.sendAsync(req, handler).get();
            return new Response<>(r.statusCode(), r.headers(), r.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted: " + req.method() + " " + req.uri());
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            while ((c instanceof java.util.concurrent.CompletionException || c instanceof java.io.UncheckedIOException)
                    && c.getCause() != null) {
                c = c.getCause();
            }
            if (c instanceof ImageException ie) throw ie;
            if (c instanceof IOException io) throw io;
            throw new IOException(c);
        }
    }

    /** The body subscriber for a blob: 200 restarts the partial, 206 must start where it ends. */
    private BodySubscriber<Long> blobHandler(HttpResponse.ResponseInfo info, PartialBlob target, LongConsumer progress,
                                             java.util.concurrent.atomic.AtomicReference<BlobSubscriber> created) {
        int s = info.statusCode();
        try {
            if (s == 200 && target.length() > 0) {
                target.restart(); // the server ignored our Range and sends everything
            } else if (s == 206) {
                String cr = info.headers().firstValue("Content-Range").orElse("");
                Matcher m = CONTENT_RANGE.matcher(cr);
                if (!m.matches() || Long.parseLong(m.group(1)) != target.length()) {
                    return failed(new ImageException(Reason.REGISTRY, "registry answered Range bytes=" + target.length()
                            + "- with Content-Range '" + cr + "'"));
                }
            } else if (s != 200) {
                return discard(-1L);
            }
        } catch (IOException e) {
            return failed(e);
        }
        BlobSubscriber b = new BlobSubscriber(target, progress, options.idleTimeout(), watchdog);
        created.set(b);
        return b;
    }

    private static <T> BodySubscriber<T> discard(T value) {
        return BodySubscribers.replacing(value);
    }

    private static <T> BodySubscriber<T> failed(Throwable t) {
        return BodySubscribers.mapping(BodySubscribers.discarding(), v -> {
            if (t instanceof RuntimeException re) throw re;
            throw new java.io.UncheckedIOException(t instanceof IOException io ? io : new IOException(t));
        });
    }

    /** Reads a body into memory, failing rather than buffering more than {@code max} bytes. */
    private static BodyHandler<byte[]> limited(int max) {
        return info -> new LimitedBytes(max);
    }

    private static final class LimitedBytes implements BodySubscriber<byte[]> {
        private final int max;
        private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private Flow.Subscription subscription;

        LimitedBytes(int max) { this.max = max; }

        @Override
        public CompletionStage<byte[]> getBody() { return result; }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) return;
            for (ByteBuffer b : items) {
                if (out.size() + b.remaining() > Math.max(max, 0)) {
                    subscription.cancel();
                    result.completeExceptionally(new ImageException(Reason.REGISTRY, "response body over " + max + " bytes"));
                    return;
                }
                byte[] a = new byte[b.remaining()];
                b.get(a);
                out.writeBytes(a);
            }
        }

        @Override
        public void onError(Throwable t) { result.completeExceptionally(t); }

        @Override
        public void onComplete() { result.complete(out.toByteArray()); }
    }

    /**
     * Streams a blob into its partial file. A watchdog cancels the exchange when no byte arrived for the idle
     * timeout: the JDK client's own timeout stops at the headers, and a registry that sends headers and then
     * stalls must not hang a pull forever. Writes and the cancel share a lock, so after the future fails no
     * late chunk reaches the file while the caller resumes from its length.
     */
    private static final class BlobSubscriber implements BodySubscriber<Long> {
        private final PartialBlob target;
        private final LongConsumer progress;
        private final CompletableFuture<Long> result = new CompletableFuture<>();
        private final Object lock = new Object();
        private final ScheduledFuture<?> watch;
        private final long idleNanos;
        private Flow.Subscription subscription;
        private volatile long lastData = System.nanoTime();
        private volatile Throwable failure;
        private long received;

        BlobSubscriber(PartialBlob target, LongConsumer progress, Duration idle, ScheduledExecutorService watchdog) {
            this.target = target;
            this.progress = progress;
            this.idleNanos = idle.toNanos();
            long period = Math.max(10, idle.toMillis() / 4);
            this.watch = watchdog.scheduleAtFixedRate(this::checkIdle, period, period, TimeUnit.MILLISECONDS);
            result.whenComplete((v, e) -> watch.cancel(false));
        }

        private void checkIdle() {
            if (System.nanoTime() - lastData < idleNanos) return;
            synchronized (lock) {
                if (result.isDone()) return;
                fail(new HttpTimeoutException("no data for " + idleNanos / 1_000_000 + " ms"));
            }
        }

        /** Caller holds the lock. Records why before cancelling, since the cancel fails the exchange too. */
        private void fail(Throwable t) {
            failure = t;
            result.completeExceptionally(t);
            if (subscription != null) subscription.cancel();
        }

        Throwable failure() { return failure; }

        @Override
        public CompletionStage<Long> getBody() { return result; }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            synchronized (lock) {
                subscription = s;
                if (result.isDone()) {
                    s.cancel();
                    return;
                }
            }
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            synchronized (lock) {
                if (result.isDone()) return;
                try {
                    for (ByteBuffer b : items) {
                        received += b.remaining();
                        target.append(b);
                    }
                    lastData = System.nanoTime();
                    progress.accept(target.length());
                } catch (Throwable t) {
                    fail(t);
                    return;
                }
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            synchronized (lock) {
                result.completeExceptionally(t);
            }
        }

        @Override
        public void onComplete() {
            synchronized (lock) {
                result.complete(received);
            }
        }
    }

    private URI uri(RemoteRef ref, String path) {
        String scheme = options.plainHttp().test(ref.host()) ? "http" : "https";
        return URI.create(scheme + "://" + ref.registry() + "/v2/" + ref.repository() + path);
    }

    private static URI withQuery(URI base, String query) {
        String s = base.toString();
        return URI.create(s + (base.getRawQuery() == null ? "?" : "&") + query);
    }

    private static void expect(Response<?> r, int status, String what) {
        if (r.status() == status) return;
        if (r.status() == 401 || r.status() == 403) {
            throw new ImageException(Reason.UNAUTHORIZED, what + ": HTTP " + r.status() + errorCode(r));
        }
        throw new ImageException(Reason.REGISTRY, what + ": HTTP " + r.status() + errorCode(r));
    }

    /** The distribution spec's error code from the body ({"errors":[{"code":...}]}), when there is one. */
    private static String errorCode(Response<?> r) {
        if (!(r.body() instanceof byte[] b) || b.length == 0) return "";
        try {
            JsonNode n = new ObjectMapper().readTree(b).path("errors").path(0);
            String code = n.path("code").asText("");
            String msg = n.path("message").asText("");
            return code.isEmpty() ? "" : " (" + code + (msg.isEmpty() ? "" : ": " + msg) + ")";
        } catch (IOException e) {
            return "";
        }
    }

    private static String describe(Exception e) {
        if (e == null) return "unknown error";
        if (e instanceof ConnectException) return "cannot connect (" + e.getMessage() + ")";
        if (e instanceof HttpTimeoutException) return "timed out (" + e.getMessage() + ")";
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        http.shutdownNow(); // close() would wait for exchanges a cancelled pull left behind
    }
}
