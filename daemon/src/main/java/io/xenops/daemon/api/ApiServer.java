package io.xenops.daemon.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.PlatformHandler;
import io.vertx.ext.web.openapi.router.OpenAPIRoute;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.validation.ValidatedRequest;
import io.vertx.openapi.validation.ValidatorException;
import io.xenops.daemon.auth.Principal;
import io.xenops.daemon.auth.RateLimiter;
import io.xenops.daemon.auth.Scope;
import io.xenops.daemon.auth.Tokens;
import io.xenops.daemon.config.DaemonConfig;
import io.xenops.daemon.error.XenopsException;
import io.xenops.daemon.events.Event;
import io.xenops.daemon.events.EventLog;
import io.xenops.daemon.metrics.Metrics;
import io.xenops.daemon.vm.SpawnRequest;
import io.xenops.daemon.vm.VmService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * HTTP in, service calls out. Routes and request validation come from api-spec/openapi.yaml; the table in
 * {@link #operations()} is the one place that maps an operation to its scope and handler; errors become
 * problem+json in {@link #problem}. Handlers translate and do nothing else.
 */
public final class ApiServer {
    public static final String CONTRACT = "xenops-api/openapi.yaml";
    private static final System.Logger LOG = System.getLogger("xenops.api");
    private static final String T0 = "xenops.t0";
    private static final String AT = "xenops.at";
    private static final String RID = "xenops.rid";
    private static final String WHO = "xenops.principal";
    private static final String OP = "xenops.op";
    private static final Duration SSE_HEARTBEAT = Duration.ofSeconds(15);

    /** What an operation needs and what it does. */
    record Operation(Scope scope, Handler<RoutingContext> handler) {}

    private final Vertx vertx;
    private final VmService service;
    private final io.xenops.daemon.images.ImageService images;
    private final EventLog events;
    private final Json json;
    private final DaemonConfig config;
    private final Clock clock;
    private final String accel;
    private final Tokens tokens;
    private final RateLimiter limiter;
    private final Metrics metrics;
    private final AtomicLong requests = new AtomicLong();
    private final String ridPrefix = Long.toString(System.currentTimeMillis() % 1_000_000, 36) + "-";
    private HttpServer server;
    private HttpServer unixServer;
    private volatile boolean stopping;
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.List<Runnable> drainWaiters = new java.util.concurrent.CopyOnWriteArrayList<>();

    public ApiServer(Vertx vertx, VmService service, io.xenops.daemon.images.ImageService images, EventLog events,
                     ObjectMapper mapper, DaemonConfig config, Clock clock, String accel, Tokens tokens,
                     RateLimiter limiter, Metrics metrics) {
        this.vertx = vertx;
        this.service = service;
        this.images = images;
        this.events = events;
        this.json = new Json(mapper);
        this.config = config;
        this.clock = clock;
        this.accel = accel;
        this.tokens = tokens;
        this.limiter = limiter;
        this.metrics = metrics;
    }

    /** operationId → scope and handler. A test checks this table against the contract, both ways. */
    Map<String, Operation> operations() {
        Map<String, Operation> ops = new LinkedHashMap<>();
        ops.put("spawnVm", new Operation(Scope.SPAWN, this::spawnVm));
        ops.put("listVms", new Operation(Scope.READ, rc -> ok(rc, 200, json.vms(service.list()))));
        ops.put("getVm", new Operation(Scope.READ, rc -> ok(rc, 200, json.vm(service.get(rc.pathParam("id"))))));
        ops.put("destroyVm", new Operation(Scope.SPAWN, rc -> reply(rc, service.destroy(rc.pathParam("id")),
                v -> rc.response().setStatusCode(204).end())));
        ops.put("getConsole", new Operation(Scope.READ, rc -> rc.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8").end(service.console(rc.pathParam("id")))));
        ops.put("listPools", new Operation(Scope.READ, rc -> ok(rc, 200, json.pools(service.pools()))));
        ops.put("getPool", new Operation(Scope.READ, rc -> ok(rc, 200, json.pool(service.pool(rc.pathParam("image"))))));
        ops.put("setPool", new Operation(Scope.ADMIN, rc -> {
            JsonObject body = validatedBody(rc);
            VmService.PoolFill f = service.setPoolTarget(rc.pathParam("image"), body.getInteger("target"), callbackUrl(body));
            ok(rc, 200, json.pool(f.pool(), f.task()));
        }));
        ops.put("listImages", new Operation(Scope.READ, rc -> ok(rc, 200, json.images(service.images()))));
        ops.put("invoke", new Operation(Scope.SPAWN, this::invoke));
        ops.put("getImage", new Operation(Scope.READ, rc -> reply(rc, images.inspect(rc.pathParam("image")),
                d -> ok(rc, 200, json.imageDetails(d)))));
        ops.put("deleteImage", new Operation(Scope.ADMIN, rc -> reply(rc, images.remove(rc.pathParam("image")),
                v -> rc.response().setStatusCode(204).end())));
        ops.put("importImage", new Operation(Scope.ADMIN, rc -> {
            JsonObject body = validatedBody(rc);
            reply(rc, images.importFiles(java.nio.file.Path.of(body.getString("kernel_path")),
                    java.nio.file.Path.of(body.getString("manifest_path"))), i -> ok(rc, 201, json.image(i)));
        }));
        ops.put("pullImage", new Operation(Scope.ADMIN, rc -> {
            JsonObject body = validatedBody(rc);
            var task = images.pull(body.getString("reference"), body.getString("name"));
            rc.response().putHeader(HttpHeaders.LOCATION, "/v1/tasks/" + task.id());
            ok(rc, 202, json.task(task, this::problemJson));
        }));
        ops.put("pushImage", new Operation(Scope.ADMIN, rc -> {
            JsonObject body = validatedBody(rc);
            var task = images.push(rc.pathParam("image"), body.getString("reference"));
            rc.response().putHeader(HttpHeaders.LOCATION, "/v1/tasks/" + task.id());
            ok(rc, 202, json.task(task, this::problemJson));
        }));
        ops.put("gcImages", new Operation(Scope.ADMIN, rc -> reply(rc,
                images.gc(validatedBody(rc).getLong("budget_bytes")), g -> ok(rc, 200, json.gc(g)))));
        ops.put("getEvents", new Operation(Scope.READ, this::getEvents));
        ops.put("streamEvents", new Operation(Scope.READ, this::streamEvents));
        ops.put("listTasks", new Operation(Scope.READ, rc -> ok(rc, 200, json.tasks(service.tasks(), this::problemJson))));
        ops.put("getTask", new Operation(Scope.READ, rc -> ok(rc, 200, json.task(service.task(rc.pathParam("id")), this::problemJson))));
        ops.put("cancelTask", new Operation(Scope.SPAWN, rc -> ok(rc, 200, json.task(service.cancelTask(rc.pathParam("id")), this::problemJson))));
        ops.put("metrics", new Operation(Scope.READ, rc -> {
            String text = metrics.registry() instanceof PrometheusMeterRegistry p ? p.scrape() : "";
            rc.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8").end(text);
        }));
        ops.put("health", new Operation(Scope.READ, rc -> {
            ObjectNode n = json.mapper().createObjectNode();
            n.put("status", "ok");
            n.put("driver", service.driverKind());
            n.put("accel", accel);
            String v = ApiServer.class.getPackage().getImplementationVersion();
            n.put("version", v == null ? "dev" : v);
            ok(rc, 200, n);
        }));
        return ops;
    }

    /** Builds the router and listens (TCP, and the unix socket if configured). Call on the control context. */
    public Future<HttpServer> start(Context ctx, JsonObject contractJson) {
        // Parsing the contract and compiling its schemas takes half a second here and ten under TCG in a nested
        // dom0: on a worker, so that the event loop (already serving the VM service's start) is never blocked.
        return vertx.<Router>executeBlocking(() -> buildRouter(OpenAPIContract.from(vertx, contractJson)
                .toCompletionStage().toCompletableFuture().get()), false).compose(router -> {
            server = vertx.createHttpServer(new HttpServerOptions()
                    .setHost(config.listenHost()).setPort(config.listenPort())
                    .setTcpNoDelay(true).setCompressionSupported(false));
            server.invalidRequestHandler(this::invalidRequest);
            // Vert.x answers a request line with an unknown HTTP version (HTTP/9.9) with a bare 501 of its own unless
            // a WebSocket handler is set; with one, such requests reach the router and get a problem document (begin).
            // The API has no WebSockets: a real upgrade is refused.
            server.webSocketHandshakeHandler(h -> h.reject(404));
            Future<HttpServer> tcp = server.requestHandler(router).listen();
            if (config.unixSocket() == null) return tcp;
            return tcp.compose(s -> {
                try {
                    Files.deleteIfExists(config.unixSocket()); // a stale socket from a crashed daemon
                } catch (IOException e) {
                    return Future.failedFuture(e);
                }
                unixServer = vertx.createHttpServer();
                return unixServer.requestHandler(router).listen(SocketAddress.domainSocketAddress(config.unixSocket().toString()))
                        .compose(u -> {
                            try {
                                // The socket's permissions are its access control: owner and group only.
                                Files.setPosixFilePermissions(config.unixSocket(), PosixFilePermissions.fromString("rw-rw----"));
                            } catch (IOException e) {
                                return Future.failedFuture(e);
                            }
                            return Future.succeededFuture(s);
                        });
            });
        });
    }

    public int port() { return server.actualPort(); }

    /**
     * Refuses new requests (503), lets in-flight ones finish for at most {@code grace}, then closes the
     * listeners. Idle keep-alive connections do not hold it up, unlike HttpServer.shutdown's grace period.
     */
    public Future<Void> stop(Duration grace) {
        stopping = true;
        io.vertx.core.Promise<Void> drained = io.vertx.core.Promise.promise();
        long deadline = System.nanoTime() + grace.toNanos();
        vertx.runOnContext(v -> awaitDrained(drained, deadline));
        return drained.future().compose(v -> {
            Future<Void> a = server == null ? Future.succeededFuture() : server.close();
            Future<Void> b = unixServer == null ? Future.succeededFuture() : unixServer.close();
            return Future.join(a, b).mapEmpty();
        });
    }

    private void awaitDrained(io.vertx.core.Promise<Void> drained, long deadline) {
        if (inFlight.get() == 0 || System.nanoTime() >= deadline) {
            drained.tryComplete();
        } else {
            drainWaiters.add(() -> awaitDrained(drained, deadline));
            vertx.setTimer(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), t -> drained.tryComplete());
        }
    }

    Router buildRouter(OpenAPIContract contract) {
        RouterBuilder builder = RouterBuilder.create(vertx, contract, RequestExtractor.withBodyHandler());
        // A platform handler, so it runs before the body handler and times the request from its start.
        builder.rootHandler((PlatformHandler) this::begin);
        builder.rootHandler(BodyHandler.create(false).setBodyLimit(config.maxBodyBytes()));
        Map<String, Operation> ops = operations();
        InlineValidator validator = new InlineValidator(vertx, contract);
        Set<String> unrouted = new HashSet<>(ops.keySet());
        for (OpenAPIRoute route : builder.getRoutes()) {
            String op = route.getOperation().getOperationId();
            Operation o = ops.get(op);
            if (o == null) throw new IllegalStateException("the contract has operation " + op + " but the daemon has no handler");
            unrouted.remove(op);
            var operation = route.getOperation();
            route.setDoValidation(false);
            route.addHandler(rc -> {
                rc.put(OP, op);
                try {
                    rc.put(RouterBuilder.KEY_META_DATA_VALIDATED_REQUEST, validator.validate(rc, operation));
                    Principal who = rc.get(WHO);
                    if (!who.scope().allows(o.scope())) {
                        throw new XenopsException.Forbidden("'" + who.name() + "' has scope " + who.scope().name().toLowerCase(Locale.ROOT)
                                + "; " + op + " needs " + o.scope().name().toLowerCase(Locale.ROOT));
                    }
                    o.handler().handle(rc);
                } catch (RuntimeException e) {
                    rc.fail(e);
                }
            });
            route.addFailureHandler(this::problem);
        }
        if (!unrouted.isEmpty()) throw new IllegalStateException("handlers without a contract operation: " + unrouted);
        Router router = builder.createRouter();
        router.route().failureHandler(this::problem);
        router.errorHandler(404, rc -> send(rc, Problems.NOT_FOUND, "no route for " + rc.request().method() + " " + rc.request().path()));
        router.errorHandler(405, rc -> send(rc, Problems.METHOD, rc.request().method() + " is not allowed on " + rc.request().path()));
        router.errorHandler(413, rc -> send(rc, Problems.TOO_LARGE, "the body is larger than " + config.maxBodyBytes() + " bytes"));
        return router;
    }

    // ---------------------------------------------------------------- handlers

    private void spawnVm(RoutingContext rc) {
        long t0 = rc.get(T0);
        JsonObject body = validatedBody(rc);
        Integer timeoutMs = body.getInteger("timeout_ms");
        Principal who = rc.get(WHO);
        SpawnRequest req = new SpawnRequest(body.getString("image"), "ready".equals(body.getString("wait", "running")),
                body.getString("args"), timeoutMs == null ? null : Duration.ofMillis(timeoutMs), who.name(), who.maxVms(),
                callbackUrl(body));
        Instant at = rc.get(AT);
        if (body.getBoolean("async", false)) {
            var task = service.spawnAsync(req, t0, at, rc.get(RID));
            rc.response().putHeader(HttpHeaders.LOCATION, "/v1/tasks/" + task.id());
            ok(rc, 202, json.task(task, this::problemJson));
            return;
        }
        reply(rc, service.spawn(req, t0, at, rc.get(RID)), vm -> {
            rc.response().putHeader(HttpHeaders.LOCATION, "/v1/vms/" + vm.id());
            ok(rc, 201, json.vm(vm));
        });
    }

    private void invoke(RoutingContext rc) {
        JsonObject body = validatedBody(rc);
        Integer timeoutMs = body.getInteger("timeout_ms");
        Principal who = rc.get(WHO);
        reply(rc, service.invoke(body.getString("image"), body.getString("input"),
                timeoutMs == null ? null : Duration.ofMillis(timeoutMs), who.name(), who.maxVms(), rc.get(T0), rc.get(AT),
                rc.get(RID)),
                inv -> ok(rc, 200, json.invocation(inv)));
    }

    /** Long poll: answers at once when there is something after {@code since}, else at the first event or the timeout. */
    private void getEvents(RoutingContext rc) {
        long since = queryLong(rc, "since", -1);
        long timeoutMs = queryLong(rc, "timeout_ms", 0);
        int max = (int) queryLong(rc, "max", 100);
        long from = since < 0 ? events.lastId() : since;
        EventLog.Page page = events.since(from, max);
        if (!page.events().isEmpty() || page.truncated() || timeoutMs == 0) {
            ok(rc, 200, json.page(page));
            return;
        }
        Runnable[] unsubscribe = new Runnable[1];
        long timer = vertx.setTimer(timeoutMs, t -> {
            unsubscribe[0].run();
            ok(rc, 200, json.page(events.since(from, max)));
        });
        unsubscribe[0] = events.subscribe(e -> {
            unsubscribe[0].run();
            vertx.cancelTimer(timer);
            ok(rc, 200, json.page(events.since(from, max)));
        });
        rc.request().connection().closeHandler(v -> {
            unsubscribe[0].run();
            vertx.cancelTimer(timer);
        });
    }

    /** Server-Sent Events; a client resumes with Last-Event-ID. A slow client is cut off, not buffered for. */
    private void streamEvents(RoutingContext rc) {
        String lastId = rc.request().getHeader("Last-Event-ID");
        if (lastId != null && !lastId.matches("[0-9]{1,18}")) {
            throw new XenopsException.InvalidRequest("Last-Event-ID must be an event id, got '" + lastId + "'");
        }
        long since = lastId != null ? Long.parseLong(lastId) : queryLong(rc, "since", -1);
        HttpServerResponse res = rc.response().setChunked(true)
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream")
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache");
        res.write(": xenopsd events\n\n");
        if (since >= 0) {
            EventLog.Page page = events.since(since, Integer.MAX_VALUE);
            if (page.truncated()) res.write("event: reset\ndata: {\"next\":" + page.next() + "}\n\n");
            page.events().forEach(e -> writeEvent(res, e));
        }
        Runnable[] unsubscribe = new Runnable[1];
        long heartbeat = vertx.setPeriodic(SSE_HEARTBEAT.toMillis(), t -> res.write(": keepalive\n\n"));
        unsubscribe[0] = events.subscribe(e -> {
            if (res.writeQueueFull()) {
                unsubscribe[0].run();
                vertx.cancelTimer(heartbeat);
                res.reset(); // it resumes from its Last-Event-ID
                return;
            }
            writeEvent(res, e);
        });
        res.closeHandler(v -> {
            unsubscribe[0].run();
            vertx.cancelTimer(heartbeat);
        });
    }

    private void writeEvent(HttpServerResponse res, Event e) {
        try {
            res.write("id: " + e.id() + "\nevent: " + e.kind() + "\ndata: " + json.mapper().writeValueAsString(json.event(e)) + "\n\n");
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** The body's callback_url, checked beyond the contract's pattern (scheme, no userinfo, a host). */
    private static String callbackUrl(JsonObject body) {
        String cb = body.getString("callback_url");
        if (cb == null) return null;
        try {
            return io.xenops.daemon.webhook.CallbackUrl.parse(cb).uri().toString();
        } catch (io.xenops.daemon.webhook.InvalidCallbackUrlException e) {
            throw new XenopsException.InvalidRequest("callback_url: " + e.getMessage());
        }
    }

    private static long queryLong(RoutingContext rc, String name, long dflt) {
        String v = rc.request().getParam(name);
        if (v == null) return dflt;
        // The contract's validator coerces loosely ("+-1" passes); the edge is strict.
        if (!v.matches("-?[0-9]{1,18}")) throw new XenopsException.InvalidRequest(name + " must be an integer, got '" + v + "'");
        return Long.parseLong(v);
    }

    private static JsonObject validatedBody(RoutingContext rc) {
        ValidatedRequest vr = rc.get(RouterBuilder.KEY_META_DATA_VALIDATED_REQUEST);
        if (vr == null || vr.getBody() == null || vr.getBody().isEmpty()) {
            throw new XenopsException.InvalidRequest("a JSON body is required");
        }
        return vr.getBody().getJsonObject();
    }

    private <T> void reply(RoutingContext rc, Future<T> f, Handler<T> onSuccess) {
        f.onComplete(ar -> {
            if (ar.succeeded()) onSuccess.handle(ar.result());
            else rc.fail(ar.cause());
        });
    }

    // ---------------------------------------------------------------- plumbing

    /** Requests Netty could not decode never reach the router; they still get a problem document. */
    private void invalidRequest(io.vertx.core.http.HttpServerRequest req) {
        Throwable cause = req.decoderResult() == null ? null : req.decoderResult().cause();
        String name = cause == null ? "" : cause.getClass().getSimpleName();
        Problems.Kind kind = name.contains("TooLongHttpLine") || name.contains("TooLongUri")
                ? new Problems.Kind(414, Problems.PREFIX + "uri-too-long", "URI too long")
                : name.contains("TooLongHttpHeader")
                        ? new Problems.Kind(431, Problems.PREFIX + "headers-too-large", "Request headers too large")
                        : Problems.INVALID;
        metrics.failure(kind.type().substring(Problems.PREFIX.length()));
        ObjectNode n = json.mapper().createObjectNode();
        n.put("type", kind.type());
        n.put("title", kind.title());
        n.put("status", kind.status());
        n.put("detail", cause == null ? "the request is not valid HTTP" : "the request could not be read: " + cause.getMessage());
        try {
            req.response().setStatusCode(kind.status()).putHeader(HttpHeaders.CONTENT_TYPE, "application/problem+json")
                    .putHeader(HttpHeaders.CONNECTION, "close").end(Buffer.buffer(json.mapper().writeValueAsBytes(n)))
                    .onComplete(v -> req.connection().close());
        } catch (JsonProcessingException e) {
            req.connection().close();
        }
    }

    private void begin(RoutingContext rc) {
        rc.put(T0, System.nanoTime());
        rc.put(AT, clock.instant());
        String given = rc.request().getHeader("X-Request-Id");
        String rid = given != null && given.matches("[A-Za-z0-9._-]{1,64}") ? given : ridPrefix + requests.incrementAndGet();
        rc.put(RID, rid);
        rc.response().putHeader("X-Request-Id", rid);
        if (rc.request().version() == null) {
            // A client error (RFC 9112 lets a server answer any request it cannot handle with 400), not a 501.
            rc.response().putHeader(HttpHeaders.CONNECTION, "close");
            send(rc, Problems.INVALID, "unsupported HTTP version: only HTTP/1.0 and HTTP/1.1 are served");
            return;
        }
        if (stopping) {
            rc.response().putHeader(HttpHeaders.CONNECTION, "close");
            send(rc, new Problems.Kind(503, Problems.PREFIX + "shutting-down", "Shutting down"), "xenopsd is stopping");
            return;
        }
        inFlight.incrementAndGet();
        rc.addEndHandler(v -> {
            if (inFlight.decrementAndGet() == 0 && stopping) {
                for (Runnable r : drainWaiters) r.run();
                drainWaiters.clear();
            }
            long nanos = System.nanoTime() - (long) rc.get(T0);
            Object op = rc.get(OP);
            // A connection closed before any answer (the client's bytes could not be decoded, or it hung up) has no
            // status: 0, not the 200 a response starts with.
            int status = rc.response().headWritten() ? rc.response().getStatusCode() : 0;
            metrics.httpRequest(op == null ? "none" : op.toString(), status, nanos);
            Principal who = rc.get(WHO);
            LOG.log(System.Logger.Level.INFO, "request_id={0} {1} {2} status={3} us={4} caller={5}", rid,
                    rc.request().method(), rc.request().path(), status == 0 ? "none" : Integer.toString(status), nanos / 1000,
                    who == null || who.name() == null ? "-" : who.name());
        });
        String raw = rc.request().path();
        if (raw == null || !raw.equals(rc.normalizedPath()) || (raw.length() > 1 && raw.endsWith("/"))) {
            // Dot segments, doubled or trailing slashes: another spelling of some resource is no resource.
            send(rc, Problems.NOT_FOUND, "not a canonical path: " + raw);
            return;
        }
        HttpMethod m = rc.request().method();
        if (m == HttpMethod.POST || m == HttpMethod.PUT) {
            String ct = rc.request().getHeader(HttpHeaders.CONTENT_TYPE);
            String base = ct == null ? "" : ct.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
            if (!base.equals("application/json")) {
                send(rc, Problems.MEDIA, "the body must be application/json, not '" + (ct == null ? "(none)" : ct) + "'");
                return;
            }
        }
        try {
            Principal who = authenticate(rc);
            rc.put(WHO, who);
            limiter.acquire(who);
        } catch (XenopsException e) {
            if (e instanceof XenopsException.Unauthorized) rc.response().putHeader("WWW-Authenticate", "Bearer realm=\"xenopsd\"");
            if (e instanceof XenopsException.RateLimited r) rc.response().putHeader("Retry-After", Long.toString(r.retryAfterSeconds()));
            send(rc, Problems.of(e), e.getMessage());
            return;
        }
        rc.next();
    }

    private Principal authenticate(RoutingContext rc) {
        SocketAddress local = rc.request().localAddress();
        if (local != null && local.isDomainSocket()) return Principal.local();
        if (tokens == null) return Principal.open();
        if (rc.request().path().equals("/v1/health")) return Principal.open(); // liveness probes carry no secrets
        return tokens.authenticate(rc.request().getHeader(HttpHeaders.AUTHORIZATION));
    }

    private void ok(RoutingContext rc, int status, JsonNode body) {
        if (rc.response().ended() || rc.response().closed()) return;
        byte[] bytes;
        try {
            bytes = json.mapper().writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            rc.fail(e);
            return;
        }
        rc.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(Buffer.buffer(bytes));
    }

    private void problem(RoutingContext rc) {
        Throwable f = rc.failure();
        if (f instanceof XenopsException x) {
            if (x instanceof XenopsException.RateLimited r) rc.response().putHeader("Retry-After", Long.toString(r.retryAfterSeconds()));
            send(rc, Problems.of(x), x.getMessage());
        } else if (f instanceof ValidatorException v) {
            String msg = v.getMessage();
            if (msg != null && msg.toLowerCase(Locale.ROOT).contains("content type")) {
                send(rc, Problems.MEDIA, "send the body as application/json (" + msg + ")");
            } else {
                send(rc, Problems.INVALID, describe(v));
            }
        } else if (undecodable(f)) {
            // The client sent bytes Netty could not decode after the headers (a bad chunk size): its error, not ours.
            LOG.log(System.Logger.Level.DEBUG, "request_id=" + rc.get(RID) + " undecodable body: " + f);
            rc.response().putHeader(HttpHeaders.CONNECTION, "close");
            send(rc, Problems.INVALID, "the request body could not be read: " + f.getMessage());
        } else if (rc.statusCode() == 413) {
            send(rc, Problems.TOO_LARGE, "the body is larger than " + config.maxBodyBytes() + " bytes");
        } else if (rc.statusCode() == 400 || (f != null && f.getClass().getName().contains("DecodeException"))) {
            send(rc, Problems.INVALID, f == null ? "bad request" : f.getMessage());
        } else if (f == null && rc.statusCode() >= 400 && rc.statusCode() < 500) {
            send(rc, new Problems.Kind(rc.statusCode(), Problems.PREFIX + "http-" + rc.statusCode(), "Request failed"),
                    "HTTP " + rc.statusCode());
        } else {
            LOG.log(System.Logger.Level.ERROR, "request_id=" + rc.get(RID) + " internal error", f);
            send(rc, Problems.INTERNAL, "internal error; see the daemon's log for request " + rc.get(RID));
        }
    }

    /** A failure raised by Netty's HTTP decoder while reading the request (its frames are at the top of the trace). */
    private static boolean undecodable(Throwable f) {
        for (Throwable t = f; t != null; t = t.getCause()) {
            if (t.getClass().getName().startsWith("io.netty.handler.codec.")) return true;
            StackTraceElement[] st = t.getStackTrace();
            for (int i = 0; i < Math.min(3, st.length); i++) {
                if (st[i].getClassName().startsWith("io.netty.handler.codec.http.")) return true;
            }
        }
        return false;
    }

    private static String describe(ValidatorException v) {
        String m = v.getMessage();
        if (v instanceof io.vertx.openapi.validation.SchemaValidationException s && s.getOutputUnit() != null) {
            var errors = s.getOutputUnit().getErrors();
            if (errors != null && !errors.isEmpty()) {
                var e = errors.getLast();
                String loc = e.getInstanceLocation();
                return m + ": " + (loc == null || loc.isEmpty() ? "" : loc + ": ") + e.getError();
            }
        }
        return m;
    }

    private ObjectNode problemJson(XenopsException e) {
        Problems.Kind k = Problems.of(e);
        ObjectNode n = json.mapper().createObjectNode();
        n.put("type", k.type());
        n.put("title", k.title());
        n.put("status", k.status());
        n.put("detail", e.getMessage());
        return n;
    }

    private void send(RoutingContext rc, Problems.Kind kind, String detail) {
        if (rc.response().ended() || rc.response().closed()) return;
        metrics.failure(kind.type().substring(Problems.PREFIX.length()));
        ObjectNode n = json.mapper().createObjectNode();
        n.put("type", kind.type());
        n.put("title", kind.title());
        n.put("status", kind.status());
        n.put("detail", detail);
        n.put("instance", rc.request().path());
        Object rid = rc.get(RID);
        if (rid != null) n.put("request_id", rid.toString());
        try {
            rc.response().setStatusCode(kind.status())
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/problem+json")
                    .end(Buffer.buffer(json.mapper().writeValueAsBytes(n)));
        } catch (JsonProcessingException e) {
            rc.response().setStatusCode(500).end();
        }
    }
}
