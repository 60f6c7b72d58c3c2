package io.xenops.daemon.vm;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.xenops.daemon.config.DaemonConfig;
import io.xenops.daemon.error.XenopsException;
import io.xenops.daemon.pool.Pool;
import io.xenops.daemon.pool.PoolView;
import io.xenops.daemon.state.StateStore;
import io.xenops.daemon.state.VmRecord;
import io.xenops.driver.DomainEvent;
import io.xenops.driver.DomainInfo;
import io.xenops.driver.DomainSpec;
import io.xenops.driver.DomainState;
import io.xenops.driver.Driver;
import io.xenops.driver.DriverException;
import io.xenops.guest.GuestCommand;
import io.xenops.guest.GuestMessage;
import io.xenops.image.Image;
import io.xenops.image.ImageStore;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The VMs, their pools, and every operation on them. High-level operations are short chains of atomic
 * steps (record, create, unpause, await, pause, record) so that any crash point has a known repair in
 * {@link #start()}.
 *
 * <p>All state is confined to one Vert.x context: public methods must be called on it, and driver
 * callbacks are moved onto it. That is what makes "a VM leaves the pool exactly once" true without locks.
 */
public final class VmService {
    private static final System.Logger LOG = System.getLogger("xenops.vm");

    private final Vertx vertx;
    private final Context ctx;
    private final Driver driver;
    private final StateStore state;
    private final ImageStore images;
    private final DaemonConfig config;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Vm> vms = new HashMap<>();
    private final Map<String, Pool<Vm>> pools = new TreeMap<>();
    private int buildsInFlight;
    private long tokens;
    private boolean stopping;

    public VmService(Vertx vertx, Context ctx, Driver driver, StateStore state, ImageStore images, DaemonConfig config,
                     Clock clock) {
        this.vertx = vertx;
        this.ctx = ctx;
        this.driver = driver;
        this.state = state;
        this.images = images;
        this.config = config;
        this.clock = clock;
        driver.setListener(e -> ctx.runOnContext(v -> onEvent(e)));
    }

    // ---------------------------------------------------------------- start: reconcile with the hypervisor

    /**
     * Re-adopts what exists and repairs what a crash left half-done. The hypervisor is the source of truth
     * for existence; the records say what each domain was for.
     */
    public Future<Void> start() {
        List<VmRecord> records;
        try {
            records = state.loadAll();
        } catch (IOException e) {
            return Future.failedFuture(e);
        }
        for (Image img : images.list()) pools.put(img.name(), new Pool<>(img.name(), config.poolTargetFor(img.name())));
        return Future.fromCompletionStage(driver.adopt(), ctx).compose(domains -> {
            Map<String, DomainInfo> byId = new HashMap<>();
            for (DomainInfo d : domains) byId.put(d.id(), d);
            List<Future<?>> cleanups = new ArrayList<>();
            int adoptedPooled = 0, adoptedRunning = 0, cleaned = 0;
            for (VmRecord r : records) {
                DomainInfo d = byId.remove(r.id());
                boolean alive = d != null && d.state() != DomainState.EXITED;
                switch (r.role()) {
                    case POOLED -> {
                        Pool<Vm> pool = pools.get(r.image());
                        if (alive && d.state() == DomainState.PAUSED && pool != null) {
                            Vm vm = new Vm(r.id(), r.image(), r.createdAt(), Phase.POOLED);
                            vm.driverDetails = d.details();
                            vms.put(vm.id, vm);
                            pool.adopt(vm);
                            adoptedPooled++;
                        } else {
                            // Running while recorded as pooled: a spawn was cut short before its client heard
                            // of the VM, so nobody owns it.
                            cleanups.add(discard(r.id(), alive));
                            cleaned++;
                        }
                    }
                    case RUNNING -> {
                        if (alive && d.state() == DomainState.RUNNING) {
                            Vm vm = new Vm(r.id(), r.image(), r.createdAt(), Phase.RUNNING);
                            vm.driverDetails = d.details();
                            vm.result = r.result();
                            vm.timings = r.path() == null ? null : Timings.start(r.path(), r.createdAt());
                            vms.put(vm.id, vm);
                            adoptedRunning++;
                        } else if (alive) {
                            cleanups.add(discard(r.id(), true)); // recorded but never resumed: the spawn never answered
                            cleaned++;
                        } else {
                            Vm vm = new Vm(r.id(), r.image(), r.createdAt(), Phase.EXITED);
                            vm.exitReason = "the domain ended while xenopsd was not running";
                            vm.result = r.result();
                            vms.put(vm.id, vm);
                            cleanups.add(Future.fromCompletionStage(state.put(vm.record(VmRecord.Role.EXITED), false), ctx));
                        }
                    }
                    case EXITED -> {
                        if (alive) cleanups.add(Future.fromCompletionStage(driver.destroy(r.id()), ctx));
                        Vm vm = new Vm(r.id(), r.image(), r.createdAt(), Phase.EXITED);
                        vm.exitReason = r.exitReason();
                        vm.result = r.result();
                        vms.put(vm.id, vm);
                    }
                    case BUILDING -> {
                        cleanups.add(discard(r.id(), alive));
                        cleaned++;
                    }
                }
            }
            for (DomainInfo stray : byId.values()) {
                // A domain with no record was created by a daemon that died before... it cannot have: records
                // come first. Still, what we cannot account for we do not keep.
                cleanups.add(discard(stray.id(), true));
                cleaned++;
            }
            LOG.log(System.Logger.Level.INFO, "reconciled: {0} pooled and {1} running VMs adopted, {2} half-made cleaned",
                    adoptedPooled, adoptedRunning, cleaned);
            return Future.join(cleanups).transform(ar -> Future.<Void>succeededFuture());
        }).onSuccess(v -> kickAll());
    }

    private Future<Void> discard(String id, boolean destroyDomain) {
        Future<Void> d = destroyDomain ? Future.fromCompletionStage(driver.destroy(id), ctx) : Future.succeededFuture();
        return d.transform(ar -> Future.fromCompletionStage(state.remove(id), ctx));
    }

    // ---------------------------------------------------------------- queries

    public List<VmView> list() {
        return vms.values().stream().filter(v -> v.phase.visible()).map(Vm::view)
                .sorted(Comparator.comparing(VmView::createdAt).thenComparing(VmView::id)).toList();
    }

    public VmView get(String id) { return visible(id).view(); }

    public String console(String id) {
        Vm vm = visible(id);
        try {
            return driver.console(vm.id);
        } catch (DriverException.NoSuchDomain e) {
            return "";
        }
    }

    public List<PoolView> pools() { return pools.values().stream().map(Pool::view).toList(); }

    public PoolView pool(String image) { return requirePool(image).view(); }

    public List<Image> images() { return images.list(); }

    public String driverKind() { return driver.kind(); }

    /** Every VM the daemon holds a domain for (for capacity). */
    private int live() {
        int n = 0;
        for (Vm vm : vms.values()) if (!vm.phase.gone()) n++;
        return n;
    }

    private Vm visible(String id) {
        Vm vm = vms.get(id);
        if (vm == null || !vm.phase.visible()) throw new XenopsException.NotFound("no VM " + id);
        return vm;
    }

    private Pool<Vm> requirePool(String image) {
        Pool<Vm> p = pools.get(image);
        if (p == null) throw new XenopsException.UnknownImage(image);
        return p;
    }

    // ---------------------------------------------------------------- spawn

    /**
     * Takes a VM from the image's pool and resumes it, or builds one when the pool is empty. On any failure
     * the VM is destroyed: a failed spawn never returns a VM to the pool and never leaves one behind.
     *
     * @param receivedNanos {@link System#nanoTime()} when the request arrived; timings count from it
     */
    public Future<VmView> spawn(SpawnRequest req, long receivedNanos, Instant receivedAt) {
        Image img = images.find(req.image()).orElseThrow(() -> new XenopsException.UnknownImage(req.image()));
        Pool<Vm> pool = requirePool(img.name());
        Duration timeout = req.timeout() != null ? req.timeout() : config.readyTimeout();
        Vm taken = pool.take();
        Future<Vm> resumed;
        if (taken != null) {
            Vm vm = taken;
            vm.phase = Phase.SPAWNING;
            vm.timings = Timings.start("warm", receivedAt).taken(sinceUs(receivedNanos, System.nanoTime()));
            // The record and the resume go in parallel; both must be done before the client hears of the VM,
            // so a crash in between is repaired as "never handed out".
            Future<Void> unpause = call(() -> driver.unpause(vm.id))
                    .onSuccess(v -> vm.timings = vm.timings.resumed(sinceUs(receivedNanos, System.nanoTime())));
            Future<Void> record = Future.fromCompletionStage(state.put(vm.record(VmRecord.Role.RUNNING), false), ctx);
            resumed = Future.all(unpause, record).map(vm).recover(err -> fail(vm, err));
        } else {
            if (!config.coldSpawn()) {
                return Future.failedFuture(new XenopsException.CapacityExhausted(
                        "the pool for '" + img.name() + "' is empty and cold spawns are disabled", null));
            }
            if (live() >= config.maxVms()) {
                return Future.failedFuture(new XenopsException.CapacityExhausted(
                        "xenopsd holds " + live() + " VMs, its limit (max_vms)", null));
            }
            pool.countCold();
            resumed = build(img, true, receivedNanos, receivedAt);
        }
        Future<VmView> done = resumed.compose(vm -> {
            if (!req.waitReady()) {
                // wait=running: hand over the input and answer now; the result is kept on the VM when it comes.
                return req.args() == null ? Future.succeededFuture(vm)
                        : call(() -> driver.send(vm.id, new GuestCommand.Args(nextToken(), req.args())))
                                .map(vm).recover(err -> fail(vm, err));
            }
            String token = nextToken();
            Future<GuestMessage> pong = await(vm, "PONG:" + token, timeout)
                    .onSuccess(m -> vm.timings = vm.timings.ready(sinceUs(receivedNanos, System.nanoTime())));
            Future<Void> sent = call(() -> driver.send(vm.id, new GuestCommand.Ping(token)));
            Future<?> last = pong;
            if (req.args() != null) {
                String rt = nextToken();
                last = await(vm, "RESULT:" + rt, timeout).onSuccess(m -> {
                    vm.result = ((GuestMessage.Result) m).text();
                    vm.timings = vm.timings.result(sinceUs(receivedNanos, System.nanoTime()));
                    state.put(vm.record(VmRecord.Role.RUNNING), false);
                });
                // Pipelined behind the PING: the guest answers both in order.
                sent = sent.compose(v -> call(() -> driver.send(vm.id, new GuestCommand.Args(rt, req.args()))));
            }
            return Future.all(sent, pong, last).map(vm).recover(err -> fail(vm, err));
        }).map(vm -> {
            vm.phase = Phase.RUNNING;
            vm.timings = vm.timings.responded(sinceUs(receivedNanos, System.nanoTime()));
            return vm.view();
        });
        // Refill after this request's work is queued, never before it.
        done.onComplete(ar -> kick(pool));
        return done;
    }

    /** Destroys a VM whose spawn failed and turns the cause into the client's error. */
    private Future<Vm> fail(Vm vm, Throwable err) {
        boolean exited = vm.phase.gone();
        XenopsException mapped = exited && !(err instanceof XenopsException)
                ? new XenopsException.DriverFailure("the VM exited during its spawn: " + vm.exitReason, err)
                : mapError(err);
        vm.phase = Phase.DESTROYING;
        return destroyNow(vm).transform(ar -> Future.failedFuture(mapped));
    }

    // ---------------------------------------------------------------- build (boot to the edge)

    /**
     * Records, creates, boots to READY, then pauses (pool) or leaves running (cold spawn). On failure
     * everything made is destroyed.
     */
    private Future<Vm> build(Image img, boolean forSpawn, long receivedNanos, Instant receivedAt) {
        String id = newId();
        Vm vm = new Vm(id, img.name(), clock.instant(), Phase.BUILDING);
        if (forSpawn) vm.timings = Timings.start("cold", receivedAt);
        vms.put(id, vm);
        DomainSpec spec = new DomainSpec(id, img.name(), img.kernel(), img.memoryMiB(), img.vcpus(),
                ("xenops.id=" + id + " " + img.cmdline()).trim());
        return Future.fromCompletionStage(state.put(vm.record(VmRecord.Role.BUILDING), true), ctx)
                .compose(v -> call(() -> driver.create(spec)))
                .compose(info -> {
                    vm.driverDetails = info.details();
                    Future<GuestMessage> ready = await(vm, "READY", config.bootTimeout());
                    return call(() -> driver.unpause(id)).compose(v -> ready);
                })
                .compose(m -> {
                    GuestMessage.Ready r = (GuestMessage.Ready) m;
                    if (!r.id().equals(id)) {
                        return Future.failedFuture(new XenopsException.DriverFailure(
                                "guest announced id '" + r.id() + "', expected '" + id + "'", null));
                    }
                    if (forSpawn) {
                        long now = sinceUs(receivedNanos, System.nanoTime());
                        vm.timings = vm.timings.taken(now).resumed(now);
                        vm.phase = Phase.SPAWNING;
                        return Future.fromCompletionStage(state.put(vm.record(VmRecord.Role.RUNNING), false), ctx);
                    }
                    return call(() -> driver.pause(id)).compose(v -> {
                        vm.phase = Phase.POOLED;
                        return Future.fromCompletionStage(state.put(vm.record(VmRecord.Role.POOLED), false), ctx);
                    });
                })
                .map(v -> vm)
                .recover(err -> fail(vm, err));
    }

    // ---------------------------------------------------------------- pools

    public PoolView setPoolTarget(String image, int target) {
        Pool<Vm> pool = requirePool(image);
        pool.setTarget(target);
        kick(pool);
        return pool.view();
    }

    private void kickAll() {
        for (Pool<Vm> p : pools.values()) kick(p);
    }

    /** Starts builds up to the pool's deficit and the global limits, and trims a pool over its target. */
    private void kick(Pool<Vm> pool) {
        if (stopping) return;
        for (Vm extra : pool.surplus()) {
            extra.phase = Phase.DESTROYING;
            destroyNow(extra);
        }
        Optional<Image> img = images.find(pool.image());
        if (img.isEmpty()) return;
        while (pool.deficit() > 0 && buildsInFlight < config.buildConcurrency() && live() < config.maxVms()) {
            pool.buildStarted();
            buildsInFlight++;
            build(img.get(), false, System.nanoTime(), clock.instant()).onComplete(ar -> {
                buildsInFlight--;
                if (ar.succeeded()) {
                    if (!pool.buildSucceeded(ar.result())) {
                        ar.result().phase = Phase.DESTROYING;
                        destroyNow(ar.result());
                    }
                } else {
                    long backoff = pool.buildFailed(ar.cause().getMessage());
                    LOG.log(System.Logger.Level.WARNING, "pool {0}: build failed ({1}); retrying in {2} ms",
                            pool.image(), ar.cause().getMessage(), backoff);
                    vertx.setTimer(backoff, t -> {
                        pool.backoffOver();
                        kick(pool);
                    });
                }
                kickAll(); // a finished build frees a build slot for any pool
            });
        }
    }

    // ---------------------------------------------------------------- destroy

    public Future<Void> destroy(String id) {
        Vm vm = visible(id);
        return enqueue(vm, () -> {
            if (vm.phase == Phase.DESTROYING) return Future.succeededFuture();
            vm.phase = Phase.DESTROYING;
            return destroyNow(vm);
        });
    }

    /** Destroys the domain, then forgets the record; the VM is gone from every view afterwards. */
    private Future<Void> destroyNow(Vm vm) {
        for (Promise<GuestMessage> w : vm.waiters.values()) w.tryFail(new XenopsException.Conflict("VM " + vm.id + " is being destroyed"));
        vm.waiters.clear();
        return call(() -> driver.destroy(vm.id))
                .compose(v -> Future.fromCompletionStage(state.remove(vm.id), ctx))
                .onComplete(ar -> {
                    vms.remove(vm.id);
                    if (ar.failed()) LOG.log(System.Logger.Level.ERROR, "destroy of " + vm.id + " failed", ar.cause());
                });
    }

    private <T> Future<T> enqueue(Vm vm, Supplier<Future<T>> op) {
        Future<T> next = vm.queue.transform(ar -> op.get());
        vm.queue = next;
        return next;
    }

    // ---------------------------------------------------------------- driver events

    private void onEvent(DomainEvent e) {
        Vm vm = vms.get(e.id());
        if (vm == null) return;
        switch (e) {
            case DomainEvent.GuestSaid s -> {
                String key = switch (s.message()) {
                    case GuestMessage.Ready r -> "READY";
                    case GuestMessage.Pong p -> "PONG:" + p.token();
                    case GuestMessage.Result r -> "RESULT:" + r.token();
                    default -> null;
                };
                if (key == null) return;
                Promise<GuestMessage> w = vm.waiters.remove(key);
                if (w != null) {
                    w.tryComplete(s.message());
                } else if (s.message() instanceof GuestMessage.Result r && (vm.phase == Phase.RUNNING || vm.phase == Phase.SPAWNING)) {
                    vm.result = r.text();
                    state.put(vm.record(VmRecord.Role.RUNNING), false);
                }
            }
            case DomainEvent.Exited x -> onExited(vm, x);
        }
    }

    private void onExited(Vm vm, DomainEvent.Exited x) {
        if (vm.phase == Phase.DESTROYING || vm.phase.gone()) return;
        Phase before = vm.phase;
        vm.phase = x.reason() == DomainEvent.ExitReason.SHUTDOWN ? Phase.EXITED : Phase.CRASHED;
        vm.exitReason = x.reason().name().toLowerCase(java.util.Locale.ROOT) + (x.detail() == null ? "" : ": " + x.detail());
        for (Promise<GuestMessage> w : vm.waiters.values()) {
            w.tryFail(new XenopsException.DriverFailure("VM " + vm.id + " exited (" + vm.exitReason + ")", null));
        }
        vm.waiters.clear();
        LOG.log(System.Logger.Level.INFO, "{0} ({1}) exited: {2}", vm.id, before, vm.exitReason);
        if (before == Phase.RUNNING) {
            state.put(vm.record(VmRecord.Role.EXITED), false); // kept so its client can read how it ended
        } else {
            // Not handed to anyone: forget it, and let the pool rebuild.
            Pool<Vm> pool = pools.get(vm.image);
            boolean wasPooled = pool != null && pool.remove(vm);
            vms.remove(vm.id);
            call(() -> driver.destroy(vm.id)).onComplete(ar -> state.remove(vm.id));
            if (wasPooled) kick(pool);
        }
    }

    // ---------------------------------------------------------------- shutdown

    /** Stops building; leaves pooled and running VMs as they are, for the next start to adopt. */
    public void stop() {
        stopping = true;
    }

    // ---------------------------------------------------------------- helpers

    private Future<GuestMessage> await(Vm vm, String key, Duration timeout) {
        Promise<GuestMessage> p = Promise.promise();
        vm.waiters.put(key, p);
        long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), t -> {
            if (vm.waiters.remove(key, p)) {
                p.tryFail(new XenopsException.GuestTimeout("VM " + vm.id + " did not answer " + key.split(":")[0]
                        + " within " + timeout.toMillis() + " ms"));
            }
        });
        return p.future().onComplete(ar -> vertx.cancelTimer(timer));
    }

    /** Runs a driver call, turning a synchronous throw into a failed future and completing on our context. */
    private <T> Future<T> call(Supplier<CompletableFuture<T>> op) {
        try {
            return Future.fromCompletionStage(op.get(), ctx);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
    }

    private String newId() {
        byte[] b = new byte[6];
        String id;
        do {
            random.nextBytes(b);
            id = "vm-" + HexFormat.of().formatHex(b);
        } while (vms.containsKey(id));
        return id;
    }

    private String nextToken() { return "t" + Long.toString(++tokens, 36); }

    private static long sinceUs(long startNanos, long nowNanos) { return (nowNanos - startNanos) / 1_000; }

    static XenopsException mapError(Throwable err) {
        Throwable t = err;
        while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) t = t.getCause();
        return switch (t) {
            case XenopsException x -> x;
            case DriverException.OutOfCapacity c -> new XenopsException.CapacityExhausted("the host cannot hold another VM: " + c.getMessage(), c);
            case DriverException d -> new XenopsException.DriverFailure(d.getMessage(), d);
            default -> new XenopsException.DriverFailure(String.valueOf(t.getMessage()), t);
        };
    }
}
