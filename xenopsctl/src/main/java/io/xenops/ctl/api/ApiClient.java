package io.xenops.ctl.api;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * Every call xenopsctl makes to xenopsd, one typed method per API operation. Commands never build
 * URLs or look at status codes themselves: errors come out as {@link ApiException} (the daemon said
 * no), {@link DaemonUnreachableException} (no answer) or {@link UnexpectedResponseException}.
 */
public final class ApiClient implements AutoCloseable {
    /** Spawn waits on the guest: its HTTP deadline is the guest timeout plus this margin. */
    static final Duration SPAWN_MARGIN = Duration.ofSeconds(30);
    /** The daemon's documented default for timeout_ms. */
    static final Duration DAEMON_DEFAULT_GUEST_TIMEOUT = Duration.ofSeconds(10);

    private static final String JSON = "application/json";

    private final HttpClient http;
    private final URI base;
    private final String token;
    private final String userAgent;
    private final Duration requestTimeout;
    private final JsonCodec json;

    /**
     * @param base   the daemon's root URL, e.g. http://127.0.0.1:8470 (a path prefix is kept)
     * @param token  bearer token, or null to send none
     */
    public ApiClient(HttpClient http, URI base, String token, String userAgent, Duration requestTimeout,
                     JsonCodec json) {
        this.http = http;
        this.base = base;
        this.token = token;
        this.userAgent = userAgent;
        this.requestTimeout = requestTimeout;
        this.json = json;
    }

    /**
     * The client xenopsctl uses: HTTP/1.1 (no h2c upgrade round trip), short connect timeout, and
     * for plain http no TLS set-up at all (see {@link PlainHttpOnly}).
     */
    public static HttpClient defaultHttpClient(URI base, Duration connectTimeout) {
        HttpClient.Builder b = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER);
        if ("http".equalsIgnoreCase(base.getScheme())) {
            b.sslContext(new PlainHttpOnly());
        }
        return b.build();
    }

    public URI base() {
        return base;
    }

    public Fetched<Vm> spawn(SpawnRequest request) {
        Duration guest = request.timeoutMs() == null
                ? DAEMON_DEFAULT_GUEST_TIMEOUT : Duration.ofMillis(Math.max(0, request.timeoutMs()));
        HttpRequest.Builder b = request("/v1/vms")
                .header("Content-Type", JSON)
                .POST(HttpRequest.BodyPublishers.ofString(json.write(request), StandardCharsets.UTF_8));
        return fetch(b, requestTimeout.plus(guest).plus(SPAWN_MARGIN), Vm.class);
    }

    public Fetched<VmList> listVms() {
        return fetch(request("/v1/vms").GET(), requestTimeout, VmList.class);
    }

    public Fetched<Vm> getVm(String id) {
        return fetch(request("/v1/vms/" + segment(id)).GET(), requestTimeout, Vm.class);
    }

    public void destroyVm(String id) {
        send(request("/v1/vms/" + segment(id)).DELETE(), requestTimeout);
    }

    /** The tail of the console, as text: the one endpoint that does not answer JSON. */
    public String console(String id) {
        return send(request("/v1/vms/" + segment(id) + "/console").header("Accept", "text/plain").GET(),
                requestTimeout).body();
    }

    public Fetched<PoolList> listPools() {
        return fetch(request("/v1/pools").GET(), requestTimeout, PoolList.class);
    }

    public Fetched<Pool> getPool(String image) {
        return fetch(request("/v1/pools/" + segment(image)).GET(), requestTimeout, Pool.class);
    }

    public Fetched<Pool> setPool(String image, int target) {
        HttpRequest.Builder b = request("/v1/pools/" + segment(image))
                .header("Content-Type", JSON)
                .PUT(HttpRequest.BodyPublishers.ofString(json.write(new PoolTarget(target)), StandardCharsets.UTF_8));
        return fetch(b, requestTimeout, Pool.class);
    }

    public Fetched<ImageList> listImages() {
        return fetch(request("/v1/images").GET(), requestTimeout, ImageList.class);
    }

    /** The guest is waited on as for spawn: its HTTP deadline is the guest timeout plus a margin. */
    public Fetched<Invocation> invoke(InvocationRequest request) {
        Duration guest = request.timeoutMs() == null
                ? DAEMON_DEFAULT_GUEST_TIMEOUT : Duration.ofMillis(Math.max(0, request.timeoutMs()));
        return fetch(post("/v1/invocations", json.write(request)), requestTimeout.plus(guest).plus(SPAWN_MARGIN),
                Invocation.class);
    }

    public Fetched<ImageDetails> getImage(String image) {
        return fetch(request("/v1/images/" + segment(image)).GET(), requestTimeout, ImageDetails.class);
    }

    /** @param kernelPath,manifestPath absolute paths on the daemon's host */
    public Fetched<Image> importImage(String kernelPath, String manifestPath) {
        return fetch(post("/v1/images/imports",
                json.writeStrings("kernel_path", kernelPath, "manifest_path", manifestPath)), requestTimeout, Image.class);
    }

    /** @param name null to store the image under its manifest's name */
    public Fetched<Task> pullImage(String reference, String name) {
        return fetch(post("/v1/images/pulls", json.writeStrings("reference", reference, "name", name)),
                requestTimeout, Task.class);
    }

    public Fetched<Task> pushImage(String image, String reference) {
        return fetch(post("/v1/images/" + segment(image) + "/push", json.writeStrings("reference", reference)),
                requestTimeout, Task.class);
    }

    public void deleteImage(String image) {
        send(request("/v1/images/" + segment(image)).DELETE(), requestTimeout);
    }

    public Fetched<GcResult> gcImages(long budgetBytes) {
        return fetch(post("/v1/images/gc", json.writeBudget(budgetBytes)), requestTimeout, GcResult.class);
    }

    public Fetched<Task> getTask(String id) {
        return fetch(request("/v1/tasks/" + segment(id)).GET(), requestTimeout, Task.class);
    }

    public Fetched<Task> cancelTask(String id) {
        return fetch(request("/v1/tasks/" + segment(id)).DELETE(), requestTimeout, Task.class);
    }

    public Fetched<Health> health() {
        return fetch(request("/v1/health").GET(), requestTimeout, Health.class);
    }

    @Override
    public void close() {
        http.close();
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(trimSlash(base.toString()) + path))
                .header("Accept", JSON + ", application/problem+json")
                .header("User-Agent", userAgent);
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private HttpRequest.Builder post(String path, String body) {
        return request(path).header("Content-Type", JSON)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    }

    private <T extends Record> Fetched<T> fetch(HttpRequest.Builder b, Duration timeout, Class<T> type) {
        HttpResponse<String> response = send(b, timeout);
        return new Fetched<>(response.body(), body -> json.read(body, type));
    }

    private HttpResponse<String> send(HttpRequest.Builder b, Duration timeout) {
        HttpRequest request = b.timeout(timeout).build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (HttpConnectTimeoutException e) {
            throw DaemonUnreachableException.cannotConnect(base, "connect timed out", e);
        } catch (HttpTimeoutException e) {
            throw DaemonUnreachableException.noAnswer(base, timeout.toMillis(), e);
        } catch (ConnectException e) {
            throw DaemonUnreachableException.cannotConnect(base, reason(e), e);
        } catch (IOException e) {
            throw DaemonUnreachableException.broken(base, reason(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw DaemonUnreachableException.broken(base, "interrupted", e);
        }
        int status = response.statusCode();
        if (status < 200 || status > 299) {
            throw new ApiException(status, problemIn(response), response.body());
        }
        return response;
    }

    private Problem problemIn(HttpResponse<String> response) {
        String contentType = response.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT);
        if (!contentType.contains("json") || response.body().isBlank()) {
            return null;
        }
        try {
            return json.read(response.body(), Problem.class);
        } catch (UnexpectedResponseException e) {
            // A broken error body must not hide the status: fall back to the raw text.
            return null;
        }
    }

    /** Why a connection failed, in the words an operator expects; the JDK often gives no message. */
    static String reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException) {
                return "unknown host";
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && !m.isBlank()) {
                return m.strip().toLowerCase(Locale.ROOT).contains("refused") ? "connection refused" : m.strip();
            }
        }
        // The JDK's HttpClient reports a refused connection as a bare ConnectException wrapping a
        // bare ClosedChannelException: no message anywhere in the chain.
        return e instanceof ConnectException ? "connection refused" : e.getClass().getSimpleName();
    }

    /** Percent-encodes one path segment, so an id or image name can never change the route. */
    static String segment(String raw) {
        if (raw.equals(".") || raw.equals("..")) {
            // Servers resolve dot segments before routing; encoded they stay a literal (bad) name.
            return raw.replace(".", "%2E");
        }
        byte[] bytes = raw.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }

    private static String trimSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }
}
