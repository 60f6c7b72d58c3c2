package io.xenops.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.xenops.daemon.api.ApiServer;
import io.xenops.daemon.auth.RateLimiter;
import io.xenops.daemon.auth.Tokens;
import io.xenops.daemon.events.EventLog;
import io.xenops.daemon.metrics.Metrics;
import io.xenops.daemon.tasks.TaskRegistry;
import io.xenops.daemon.systemd.SdNotify;
import io.xenops.daemon.vm.Notifier;
import io.xenops.daemon.webhook.CallbackUrl;
import io.xenops.daemon.webhook.Signer;
import io.xenops.daemon.webhook.WebhookDispatcher;
import io.xenops.daemon.webhook.WebhookEvent;
import io.xenops.daemon.webhook.WebhookSettings;
import io.xenops.daemon.config.DaemonConfig;
import io.xenops.daemon.state.StateStore;
import io.xenops.daemon.vm.VmService;
import io.xenops.driver.Driver;
import io.xenops.daemon.images.ImageCatalog;
import io.xenops.daemon.images.ImageService;
import io.xenops.image.oci.ImageTransfer;
import io.xenops.image.oci.RegistryClient;
import io.xenops.image.oci.RegistryOptions;
import io.xenops.image.store.CasImageStore;
import io.xenops.image.store.StoreOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One running xenopsd: the parts, wired by hand in dependency order, and taken down in reverse.
 * Tests start it in-process with a simulated driver; production starts it through {@link Main}.
 */
public final class Daemon implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("xenops.daemon");

    private final DaemonConfig config;
    private final Drivers drivers;
    private Vertx vertx;
    private ExecutorService io;
    private StateStore state;
    private Driver driver;
    private VmService service;
    private ApiServer api;
    private Context ctx;
    private CasImageStore store;
    private ImageTransfer transfer;
    private Metrics metrics;
    private WebhookDispatcher webhooks;
    private final SdNotify sdNotify = new SdNotify(System.getenv());

    public Daemon(DaemonConfig config) { this(config, new Drivers()); }

    public Daemon(DaemonConfig config, Drivers drivers) {
        this.config = config;
        this.drivers = drivers;
    }

    public Future<Void> start() {
        try {
            Files.createDirectories(config.stateDir());
            io = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("state-io-", 0).factory());
            state = new StateStore(config.stateDir(), io);
        } catch (IOException e) {
            return Future.failedFuture(e);
        }
        // The store refuses to remove or collect what a pool or a VM needs; the VM service keeps this set.
        java.util.Set<String> inUse = java.util.concurrent.ConcurrentHashMap.newKeySet();
        ImageCatalog images = new ImageCatalog();
        try {
            store = new CasImageStore(config.stateDir().resolve("images"),
                    StoreOptions.defaults().withInUse(img -> inUse.contains(img.name())));
            transfer = new ImageTransfer(store, new RegistryClient(RegistryOptions.defaults()));
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        Drivers.Selected sel;
        try {
            // Bundled images are imported before anything else runs; the catalog is then the spawn path's view.
            new ImageService(null, null, store, transfer, images, null, null, x -> { }, n -> false).startBlocking(config.imageDirs());
            if (images.list().isEmpty()) LOG.log(System.Logger.Level.WARNING, "no images: pass --images-dir");
            sel = drivers.create(config, images.list());
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        driver = sel.driver();
        // One event loop is the daemon's control context: all VM and pool state lives on it.
        VertxOptions vo = new VertxOptions().setEventLoopPoolSize(2).setWorkerPoolSize(4);
        // Diagnosis: -Dxenops.debug.blockedMs=N logs, with its stack, any event-loop task that runs N ms or more.
        long blockedMs = Long.getLong("xenops.debug.blockedMs", 0);
        if (blockedMs > 0) {
            vo.setMaxEventLoopExecuteTime(blockedMs).setMaxEventLoopExecuteTimeUnit(java.util.concurrent.TimeUnit.MILLISECONDS)
                    .setWarningExceptionTime(blockedMs).setWarningExceptionTimeUnit(java.util.concurrent.TimeUnit.MILLISECONDS)
                    .setBlockedThreadCheckInterval(Math.max(1, blockedMs / 2))
                    .setBlockedThreadCheckIntervalUnit(java.util.concurrent.TimeUnit.MILLISECONDS);
        }
        vertx = Vertx.vertx(vo);
        ctx = vertx.getOrCreateContext();
        ObjectMapper mapper = new ObjectMapper();
        io.vertx.core.json.JsonObject contract = new io.xenops.daemon.api.Contract(Daemon.class.getClassLoader()).forRouter();
        Promise<Void> started = Promise.promise();
        Tokens tokens;
        java.util.Optional<Signer> signer;
        try {
            tokens = config.tokensFile() == null ? null : Tokens.load(config.tokensFile());
            signer = config.webhookSecretFile() == null ? java.util.Optional.empty()
                    : java.util.Optional.of(Signer.fromFile(config.webhookSecretFile()));
        } catch (RuntimeException | IOException e) {
            return Future.failedFuture(e);
        }
        metrics = new Metrics(Metrics.prometheus());
        // The objects are built here, not on the control context: their first construction loads some
        // thousand classes (350 ms on this host, seconds in a dom0 under TCG), which on the event loop was
        // a blocked-thread warning at every start. Nothing below touches VM state until start() runs there.
        {
            Clock clock = Clock.systemUTC();
            EventLog events = new EventLog(10_000, clock);
            webhooks = new WebhookDispatcher(vertx, ctx, WebhookSettings.defaults(), signer, clock,
                    java.util.random.RandomGenerator.getDefault(), outcome -> metrics.webhook(outcome.getClass().getSimpleName()));
            Notifier notifier = (url, event, subject, image) -> webhooks.submit(CallbackUrl.parse(url),
                    event.equals("filled") ? new WebhookEvent.Pool(event, image, clock.instant())
                            : new WebhookEvent.Vm(event, subject, image, clock.instant()));
            TaskRegistry tasks = new TaskRegistry(1_000, events, clock);
            service = new VmService(vertx, ctx, driver, state, images, config, clock, events, tasks, metrics, notifier, inUse);
            ImageService imageService = new ImageService(vertx, ctx, store, transfer, images, tasks, events, service::imagesChanged,
                    inUse::contains);
            api = new ApiServer(vertx, service, imageService, events, mapper, config, clock, sel.accel(), tokens,
                    new RateLimiter(System::nanoTime), metrics);
        }
        ctx.runOnContext(v -> {
            service.start()
                    .compose(x -> api.start(ctx, contract))
                    .onSuccess(server -> {
                        writePortFile(server.actualPort());
                        sdNotify.ready("serving on " + config.listenHost() + ":" + server.actualPort());
                        // The watchdog pings from the control context, so a wedged event loop stops them.
                        sdNotify.watchdogInterval().ifPresent(d -> vertx.setPeriodic(Math.max(1, d.toMillis() / 2), id -> sdNotify.watchdog()));
                        LOG.log(System.Logger.Level.INFO, "xenopsd listening on http://{0}:{1,number,#} (driver {2}, accel {3}, state {4})",
                                config.listenHost(), server.actualPort(), driver.kind(), sel.accel(), config.stateDir());
                    })
                    .<Void>mapEmpty()
                    .onComplete(started);
        });
        return started.future();
    }

    /** The API's port (useful when the configuration asked for port 0). */
    public int port() { return api.port(); }

    public Driver driver() { return driver; }

    private void writePortFile(int port) {
        try {
            Path tmp = config.stateDir().resolve("xenopsd.port.tmp");
            Files.writeString(tmp, Integer.toString(port));
            Files.move(tmp, config.stateDir().resolve("xenopsd.port"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot write the port file: " + e.getMessage());
        }
    }

    /**
     * Stops serving and disconnects from every VM, leaving pooled and running VMs in place for the next
     * start to adopt (the configuration, not a shutdown, decides what exists).
     */
    @Override
    public synchronized void close() {
        if (vertx == null) return;
        sdNotify.stopping("stopping");
        try {
            if (service != null) ctx.runOnContext(v -> service.stop());
            // In-flight requests finish (bounded); new ones are refused.
            if (api != null) api.stop(java.time.Duration.ofSeconds(5)).toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "API did not stop cleanly: " + e);
        }
        if (webhooks != null) {
            try {
                webhooks.shutdown().toCompletionStage().toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "webhooks did not drain: " + e);
            }
        }
        if (driver != null) driver.close();
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "Vert.x did not stop cleanly: " + e);
        }
        try {
            if (state != null) state.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "state store: " + e.getMessage());
        }
        if (io != null) io.close();
        if (transfer != null) transfer.close();
        if (store != null) store.close();
        vertx = null;
    }
}
