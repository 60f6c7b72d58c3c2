package io.xenops.daemon.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.openapi.router.OpenAPIRoute;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.validation.ValidatedRequest;
import io.vertx.openapi.validation.ValidatorException;
import io.xenops.daemon.config.DaemonConfig;
import io.xenops.daemon.error.XenopsException;
import io.xenops.daemon.vm.SpawnRequest;
import io.xenops.daemon.vm.VmService;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * HTTP in, service calls out. Routes and request validation come from api-spec/openapi.yaml; the table in
 * {@link #operations()} is the one place that maps an operation to its handler; errors become problem+json
 * in {@link #problem}. Handlers translate and do nothing else.
 */
public final class ApiServer {
    public static final String CONTRACT = "xenops-api/openapi.yaml";
    private static final System.Logger LOG = System.getLogger("xenops.api");
    private static final String T0 = "xenops.t0";
    private static final String RID = "xenops.rid";

    private final Vertx vertx;
    private final VmService service;
    private final Json json;
    private final DaemonConfig config;
    private final Clock clock;
    private final String accel;
    private final AtomicLong requests = new AtomicLong();
    private final String ridPrefix = Long.toString(System.currentTimeMillis() % 1_000_000, 36) + "-";
    private HttpServer server;

    public ApiServer(Vertx vertx, VmService service, com.fasterxml.jackson.databind.ObjectMapper mapper,
                     DaemonConfig config, Clock clock, String accel) {
        this.vertx = vertx;
        this.service = service;
        this.json = new Json(mapper);
        this.config = config;
        this.clock = clock;
        this.accel = accel;
    }

    /** operationId → handler. A test checks this table against the contract, both ways. */
    Map<String, Handler<RoutingContext>> operations() {
        Map<String, Handler<RoutingContext>> ops = new LinkedHashMap<>();
        ops.put("spawnVm", this::spawnVm);
        ops.put("listVms", rc -> ok(rc, 200, json.vms(service.list())));
        ops.put("getVm", rc -> ok(rc, 200, json.vm(service.get(rc.pathParam("id")))));
        ops.put("destroyVm", rc -> service.destroy(rc.pathParam("id")).onComplete(ar -> {
            if (ar.succeeded()) rc.response().setStatusCode(204).end();
            else rc.fail(ar.cause());
        }));
        ops.put("getConsole", rc -> rc.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
                .end(service.console(rc.pathParam("id"))));
        ops.put("listPools", rc -> ok(rc, 200, json.pools(service.pools())));
        ops.put("getPool", rc -> ok(rc, 200, json.pool(service.pool(rc.pathParam("image")))));
        ops.put("setPool", rc -> {
            JsonObject body = validatedBody(rc);
            ok(rc, 200, json.pool(service.setPoolTarget(rc.pathParam("image"), body.getInteger("target"))));
        });
        ops.put("listImages", rc -> ok(rc, 200, json.images(service.images())));
        ops.put("health", rc -> {
            ObjectNode n = json.mapper().createObjectNode();
            n.put("status", "ok");
            n.put("driver", service.driverKind());
            n.put("accel", accel);
            n.put("version", ApiServer.class.getPackage().getImplementationVersion() == null ? "dev"
                    : ApiServer.class.getPackage().getImplementationVersion());
            ok(rc, 200, n);
        });
        return ops;
    }

    /** Loads the contract, builds the router, and listens. Must be called on the daemon's control context. */
    public Future<HttpServer> start(Context ctx, JsonObject contractJson) {
        return OpenAPIContract.from(vertx, contractJson).compose(contract -> {
            Router router = buildRouter(contract);
            server = vertx.createHttpServer(new HttpServerOptions()
                    .setHost(config.listenHost()).setPort(config.listenPort())
                    .setTcpNoDelay(true).setCompressionSupported(false));
            return server.requestHandler(router).listen();
        });
    }

    public int port() { return server.actualPort(); }

    public Future<Void> stop() { return server == null ? Future.succeededFuture() : server.close(); }

    Router buildRouter(OpenAPIContract contract) {
        RouterBuilder builder = RouterBuilder.create(vertx, contract, RequestExtractor.withBodyHandler());
        // A platform handler, so it may run before the body handler and time the request from its start.
        builder.rootHandler((io.vertx.ext.web.handler.PlatformHandler) this::begin);
        builder.rootHandler(BodyHandler.create(false).setBodyLimit(config.maxBodyBytes()));
        Map<String, Handler<RoutingContext>> ops = operations();
        for (OpenAPIRoute route : builder.getRoutes()) {
            String op = route.getOperation().getOperationId();
            Handler<RoutingContext> h = ops.get(op);
            if (h == null) throw new IllegalStateException("the contract has operation " + op + " but the daemon has no handler");
            route.addHandler(rc -> {
                try {
                    h.handle(rc);
                } catch (RuntimeException e) {
                    rc.fail(e);
                }
            });
            route.addFailureHandler(this::problem);
        }
        Set<String> missing = new java.util.HashSet<>(ops.keySet());
        builder.getRoutes().forEach(r -> missing.remove(r.getOperation().getOperationId()));
        if (!missing.isEmpty()) throw new IllegalStateException("handlers without a contract operation: " + missing);
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
        SpawnRequest req = new SpawnRequest(body.getString("image"), "ready".equals(body.getString("wait", "running")),
                body.getString("args"), timeoutMs == null ? null : Duration.ofMillis(timeoutMs));
        Instant receivedAt = rc.get("xenops.at");
        service.spawn(req, t0, receivedAt).onComplete(ar -> {
            if (ar.failed()) {
                rc.fail(ar.cause());
                return;
            }
            rc.response().putHeader(HttpHeaders.LOCATION, "/v1/vms/" + ar.result().id());
            ok(rc, 201, json.vm(ar.result()));
        });
    }

    private static JsonObject validatedBody(RoutingContext rc) {
        ValidatedRequest vr = rc.get(RouterBuilder.KEY_META_DATA_VALIDATED_REQUEST);
        if (vr == null || vr.getBody() == null || vr.getBody().isEmpty()) {
            throw new XenopsException.InvalidRequest("a JSON body is required");
        }
        return vr.getBody().getJsonObject();
    }

    // ---------------------------------------------------------------- plumbing

    private void begin(RoutingContext rc) {
        rc.put(T0, System.nanoTime());
        rc.put("xenops.at", clock.instant());
        String given = rc.request().getHeader("X-Request-Id");
        String rid = given != null && given.matches("[A-Za-z0-9._-]{1,64}") ? given : ridPrefix + requests.incrementAndGet();
        rc.put(RID, rid);
        rc.response().putHeader("X-Request-Id", rid);
        rc.addEndHandler(v -> {
            long us = (System.nanoTime() - (long) rc.get(T0)) / 1_000;
            LOG.log(System.Logger.Level.INFO, "request_id={0} {1} {2} status={3} us={4}", rid,
                    rc.request().method(), rc.request().path(), rc.response().getStatusCode(), us);
        });
        io.vertx.core.http.HttpMethod m = rc.request().method();
        if (m == io.vertx.core.http.HttpMethod.POST || m == io.vertx.core.http.HttpMethod.PUT) {
            String ct = rc.request().getHeader(HttpHeaders.CONTENT_TYPE);
            String base = ct == null ? "" : ct.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
            if (!base.equals("application/json")) {
                send(rc, Problems.MEDIA, "the body must be application/json, not '" + (ct == null ? "(none)" : ct) + "'");
                return;
            }
        }
        rc.next();
    }

    private void ok(RoutingContext rc, int status, JsonNode body) {
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
            send(rc, Problems.of(x), x.getMessage());
        } else if (f instanceof ValidatorException v) {
            String msg = v.getMessage();
            if (msg != null && msg.toLowerCase(java.util.Locale.ROOT).contains("content type")) {
                send(rc, Problems.MEDIA, "send the body as application/json (" + msg + ")");
            } else {
                send(rc, Problems.INVALID, describe(v));
            }
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

    private void send(RoutingContext rc, Problems.Kind kind, String detail) {
        if (rc.response().ended()) return;
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
