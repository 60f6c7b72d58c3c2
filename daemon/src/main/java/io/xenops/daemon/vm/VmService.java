package io.xenops.daemon.vm;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.xenops.daemon.config.DaemonConfig;
import io.xenops.daemon.error.XenopsException;
import io.xenops.daemon.events.EventLog;
import io.xenops.daemon.metrics.Metrics;
import io.xenops.daemon.pool.Pool;
import io.xenops.daemon.pool.PoolView;
import io.xenops.daemon.state.StateStore;
import io.xenops.daemon.state.VmRecord;
import io.xenops.daemon.tasks.Task;
import io.xenops.daemon.tasks.TaskRegistry;
import io.xenops.daemon.tasks.TaskView;
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
    private final EventLog events;
    private final TaskRegistry tasks;
    private final Metrics metrics;
    private final Notifier notifier;
    private final SecureRandom random = new SecureRandom();
    /** The pool-fill task of each image, while one runs. */
    private final Map<String, Task> fills = new HashMap<>();
    private final Map<String, String> poolCallbacks = new HashMap<>();
    /** Images a pool or a VM needs, read by the image store (from other threads) to refuse removal and gc. */
    private final java.util.Set<String> imagesInUse;
    private final Map<String, Vm> vms = new HashMap<>();
    private final Map<String, Pool<Vm>> pools = new TreeMap<>();
    private int buildsInFlight;
    private long tokens;
    private boolean stopping;
    /** Named crash points for the kill tests; none unless the operator armed them (config {@code fault}). */
    private final FaultPoints faults;
    private final HostMemory memory;
    private final HostMemory.Source meminfo;

    public VmService(Vertx vertx, Context ctx, Driver driver, StateStore state, ImageStore images, DaemonConfig config,
                     Clock clock, EventLog events, TaskRegistry tasks, Metrics metrics, Notifier notifier,
                     java.util.Set<String> imagesInUse) {
        this(vertx, ctx, driver, state, images, config, clock, events, tasks, metrics, notifier, imagesInUse,
                FaultPoints.parse(config.fault()), HostMemory.procMeminfo());
    }

    VmService(Vertx vertx, Context ctx, Driver driver, StateStore state, ImageStore images, DaemonConfig config,
              Clock clock, EventLog events, TaskRegistry tasks, Metrics metrics, Notifier notifier,
              java.util.Set<String> imagesInUse, FaultPoints faults, HostMemory.Source meminfo) {
        this.faults = faults;
        this.memory = new HostMemory(config.hostMemoryReserveMiB());
        this.meminfo = meminfo;
        if (faults.armed()) LOG.log(System.Logger.Level.WARNING, "fault injection is armed: " + config.fault());
        this.imagesInUse = imagesInUse;
        this.vertx = vertx;
        this.ctx = ctx;
        this.driver = driver;
        this.state = state;
        this.images = images;
        this.config = config;
        this.clock = clock;
        this.events = events;
        this.tasks = tasks;
        this.metrics = metrics;
        this.notifier = notifier;
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
        for (Image img : images.list()) addPool(img.name());
        for (Phase ph : Phase.values()) {
            metrics.gauge("xenops.vms", "VMs held by the daemon, by phase", ph,
                    p -> vms.values().stream().filter(v -> v.phase == p).count(), "phase", ph.name().toLowerCase(java.util.Locale.ROOT));
        }
        metrics.gauge("xenops.host.memory.available", "Host MemAvailable at the last reading (bytes; -1 unknown)", memory,
                m -> m.availableMiB() < 0 ? -1 : m.availableMiB() * 1048576.0);
        metrics.gauge("xenops.host.memory.low", "1 while host memory is below host_memory_reserve_mib", memory, m -> m.low() ? 1 : 0);
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
                            vm.owner = r.owner();
                            vm.callbackUrl = r.callbackUrl();
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
        }).onSuccess(v -> {
            kickAll();
            // Only after the reconciliation: a reading kicks the pools, which must not build before adopted VMs are in.
            if (memory.enabled()) {
                readMemory();
                vertx.setPeriodic(MEMORY_REFRESH_MS, t -> readMemory());
            }
        });
    }

    private static final long MEMORY_REFRESH_MS = 1_000;
    /** A pool wanted a build the admission check refused; the next reading retries it. */
    private boolean heldBackByMemory;

    /** Reads MemAvailable on a worker (never on the control context) and acts on the reading here. */
    private void readMemory() {
        vertx.executeBlocking(meminfo::availableMiB, false).onComplete(ar -> {
            long mib = ar.succeeded() ? ar.result() : -1;
            if (memory.update(mib)) {
                LOG.log(memory.low() ? System.Logger.Level.WARNING : System.Logger.Level.INFO,
                        "host memory {0}: {1} MiB available, reserve {2} MiB{3}", memory.low() ? "low" : "recovered",
                        mib, memory.reserveMiB(), memory.low() ? "; not building VMs, shedding pooled ones" : "");
                events.publish(memory.low() ? "host.memory-low" : "host.memory-ok", "available_mib=" + mib);
                if (!memory.low()) heldBackByMemory = true; // pools shed while it was low refill now
            }
            // A pool held back by the admission check gets no other nudge than a new reading. Only such a pool:
            // refills otherwise start after a spawn's work, never in the middle of it.
            if (memory.low()) {
                shedOnePooled();
            } else if (heldBackByMemory) {
                heldBackByMemory = false;
                kickAll();
            }
        });
    }

    /**
     * Host memory is below the reserve: give back one paused VM (the newest of the fullest pool) per reading, so
     * the daemon shrinks gradually and stops as soon as the host has room again. Targets are kept, so the pools
     * refill when memory returns.
     */
    private void shedOnePooled() {
        Pool<Vm> fullest = null;
        for (Pool<Vm> p : pools.values()) if (p.readyCount() > 0 && (fullest == null || p.readyCount() > fullest.readyCount())) fullest = p;
        if (fullest == null) return;
        Vm newest = null;
        for (Vm vm : vms.values()) {
            if (vm.phase == Phase.POOLED && vm.image.equals(fullest.image()) && fullest.contains(vm)
                    && (newest == null || vm.createdAt.isAfter(newest.createdAt))) newest = vm;
        }
        if (newest == null || !fullest.remove(newest)) return;
        LOG.log(System.Logger.Level.WARNING, "host memory low: shedding pooled VM {0} of {1}", newest.id, fullest.image());
        newest.phase = Phase.DESTROYING;
        destroyNow(newest);
        poolChanged(fullest);
    }

    private Future<Void> discard(String id, boolean destroyDomain) {
        Future<Void> d = destroyDomain ? call("destroy", () -> driver.destroy(id)) : Future.succeededFuture();
        return d.transform(ar -> Future.fromCompletionStage(state.remove(id), ctx));
    }

    /** The image store changed: a pool for every image, none for images that are gone (and idle). */
    public void imagesChanged(List<Image> now) {
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Image i : now) {
            names.add(i.name());
            if (!pools.containsKey(i.name())) {
                addPool(i.name());
                kick(pools.get(i.name()));
            }
        }
        pools.keySet().removeIf(name -> !names.contains(name) && pools.get(name).readyCount() == 0
                && pools.get(name).building() == 0);
        recomputeInUse();
    }

    private void recomputeInUse() {
        java.util.Set<String> used = new java.util.HashSet<>();
        for (Pool<Vm> p : pools.values()) if (p.target() > 0 || p.readyCount() > 0 || p.building() > 0) used.add(p.image());
        for (Vm vm : vms.values()) if (!vm.phase.gone()) used.add(vm.image);
        imagesInUse.retainAll(used);
        imagesInUse.addAll(used);
    }

    private void addPool(String image) {
        if (pools.containsKey(image)) return;
        Pool<Vm> pool = new Pool<>(image, config.poolTargetFor(image));
        pools.put(image, pool);
        metrics.gauge("xenops.pool.ready", "Paused VMs ready to spawn", pool, Pool::readyCount, "image", image);
        metrics.gauge("xenops.pool.target", "Paused VMs the pool keeps", pool, Pool::target, "image", image);
        metrics.gauge("xenops.pool.building", "Pool members being built", pool, Pool::building, "image", image);
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
        return spawn(req, receivedNanos, receivedAt, "-");
    }

    /**
     * Pooled VMs a spawn may go through when the one it took dies before it answers anything. Such a VM was
     * broken before anyone had it (seen on Xen: a pooled guest that triple-faulted as it was unpaused), so the
     * request takes the next one rather than failing; one is enough to ride out a rare fault, and a bound
     * keeps a pool whose every member dies from being burnt by one request.
     */
    static final int WARM_RETRIES = 1;

    /** What one request's attempts took, for its log line. */
    private static final class Trace {
        String takenId = "-";
        String path = "cold";
    }

    /** As {@link #spawn(SpawnRequest, long, Instant)}, logging each outcome under the request's id. */
    public Future<VmView> spawn(SpawnRequest req, long receivedNanos, Instant receivedAt, String requestId) {
        Trace trace = new Trace();
        Future<VmView> done = attempt(req, receivedNanos, receivedAt, requestId, WARM_RETRIES, trace);
        String waitFor = req.waitReady() ? "ready" : "running";
        done.onComplete(ar -> {
            String path = ar.succeeded() ? ar.result().timings().path() : trace.path;
            if (ar.succeeded()) {
                LOG.log(System.Logger.Level.INFO, "request_id={0} vm={1} path={2} spawned image {3}", requestId,
                        ar.result().id(), path, req.image());
            } else {
                LOG.log(System.Logger.Level.WARNING, "request_id={0} vm={1} path={2} spawn of {3} failed: {4}", requestId,
                        trace.takenId, path, req.image(), ar.cause().getMessage());
            }
            metrics.spawn(path, waitFor, ar.succeeded() ? "ok" : problemOf(ar.cause()), System.nanoTime() - receivedNanos);
            // Refill after this request's work is queued, never before it.
            Pool<Vm> pool = pools.get(req.image());
            if (pool != null) kick(pool);
        });
        return done;
    }

    private Future<VmView> attempt(SpawnRequest req, long receivedNanos, Instant receivedAt, String requestId, int retries,
                                   Trace trace) {
        Image img = images.find(req.image()).orElseThrow(() -> new XenopsException.UnknownImage(req.image()));
        Pool<Vm> pool = requirePool(img.name());
        Duration timeout = req.timeout() != null ? req.timeout() : config.readyTimeout();
        if (req.owner() != null && req.maxVms() > 0) {
            long held = vms.values().stream().filter(v -> req.owner().equals(v.owner) && !v.phase.gone()).count();
            if (held >= req.maxVms()) {
                throw new XenopsException.QuotaExceeded("'" + req.owner() + "' holds " + held + " VMs, its quota; destroy one first");
            }
        }
        Vm taken = pool.take();
        if (taken != null) events.publish("pool.changed", pool.image());
        Future<Vm> resumed;
        if (taken != null) {
            faults.reach("spawn.warm.taken");
            Vm vm = taken;
            vm.phase = Phase.SPAWNING;
            vm.timings = Timings.start("warm", receivedAt).taken(sinceUs(receivedNanos, System.nanoTime()));
            // The record and the resume go in parallel; both must be done before the client hears of the VM,
            // so a crash in between is repaired as "never handed out".
            Future<Void> unpause = call("unpause", () -> driver.unpause(vm.id))
                    .onSuccess(v -> vm.timings = vm.timings.resumed(sinceUs(receivedNanos, System.nanoTime())));
            faults.reach("spawn.warm.mid-unpause");
            Future<Void> record = Future.fromCompletionStage(state.put(vm.record(VmRecord.Role.RUNNING), false), ctx);
            resumed = Future.all(unpause, record).map(vm).onSuccess(v -> faults.reach("spawn.warm.resumed")).recover(err -> fail(vm, err));
        } else {
            if (!config.coldSpawn()) {
                return Future.failedFuture(new XenopsException.CapacityExhausted(
                        "the pool for '" + img.name() + "' is empty and cold spawns are disabled", null));
            }
            if (live() >= config.maxVms()) {
                return Future.failedFuture(new XenopsException.CapacityExhausted(
                        "xenopsd holds " + live() + " VMs, its limit (max_vms)", null));
            }
            if (!memory.admits(img.memoryMiB())) {
                return Future.failedFuture(new XenopsException.CapacityExhausted(memory.describe(img.memoryMiB()), null));
            }
            faults.reach("spawn.cold.before-build");
            pool.countCold();
            resumed = build(img, true, receivedNanos, receivedAt, req.owner());
        }
        if (taken != null) taken.owner = req.owner();
        Future<VmView> done = resumed.compose(vm -> {
            if (!req.waitReady()) {
                // wait=running: hand over the input and answer now; the result is kept on the VM when it comes.
                return req.args() == null ? Future.succeededFuture(vm)
                        : call("send", () -> driver.send(vm.id, new GuestCommand.Args(nextToken(), req.args())))
                                .map(vm).recover(err -> fail(vm, err));
            }
            String token = nextToken();
            Future<GuestMessage> pong = await(vm, "PONG:" + token, timeout)
                    .onSuccess(m -> vm.timings = vm.timings.ready(sinceUs(receivedNanos, System.nanoTime())));
            Future<Void> sent = call("send", () -> driver.send(vm.id, new GuestCommand.Ping(token)));
            Future<?> last = pong;
            if (req.args() != null) {
                String rt = nextToken();
                last = await(vm, "RESULT:" + rt, timeout).onSuccess(m -> {
                    vm.result = ((GuestMessage.Result) m).text();
                    vm.timings = vm.timings.result(sinceUs(receivedNanos, System.nanoTime()));
                    state.put(vm.record(VmRecord.Role.RUNNING), false);
                });
                // Pipelined behind the PING: the guest answers both in order.
                sent = sent.compose(v -> call("send", () -> driver.send(vm.id, new GuestCommand.Args(rt, req.args()))));
            }
            return Future.all(sent, pong, last).map(vm).recover(err -> fail(vm, err));
        }).map(vm -> {
            faults.reach(vm.timings != null && "cold".equals(vm.timings.path()) ? "spawn.cold.before-response" : "spawn.warm.before-response");
            vm.phase = Phase.RUNNING;
            vm.callbackUrl = req.callbackUrl();
            vm.timings = vm.timings.responded(sinceUs(receivedNanos, System.nanoTime()));
            events.publish("vm.running", vm.id);
            if (vm.callbackUrl != null) {
                state.put(vm.record(VmRecord.Role.RUNNING), false);
                notifier.notify(vm.callbackUrl, "ready", vm.id, vm.image);
            }
            return vm.view();
        });
        trace.takenId = taken == null ? "-" : taken.id;
        trace.path = taken == null ? "cold" : "warm";
        if (taken == null || retries <= 0) return done;
        Vm first = taken;
        return done.recover(err -> {
            // The hypervisor side failed before the VM answered anything, so before anything of this request reached
            // its guest: a PING is all it could have read, and ARGS come after the PING (ARGS with wait=running go out
            // unannounced: no retry). The failed VM is destroyed by now. Whether the exit event or the failed PING came
            // first is a race (a dead QEMU's console refuses the write), so the kind of error decides, not the exit.
            // A guest that is alive but silent (GuestTimeout) is not retried: the client has waited its timeout.
            boolean unanswered = !first.answered && (req.args() == null || req.waitReady())
                    && mapError(err) instanceof XenopsException.DriverFailure;
            if (!unanswered) return Future.failedFuture(err);
            LOG.log(System.Logger.Level.WARNING, "request_id={0} vm={1} pooled VM of {2} failed before it answered ({3}); "
                    + "taking the next one", requestId, first.id, req.image(),
                    first.exitReason != null ? first.exitReason : err.getMessage());
            metrics.poolMemberLost(req.image());
            return attempt(req, receivedNanos, receivedAt, requestId, retries - 1, trace);
        });
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
    private Future<Vm> build(Image img, boolean forSpawn, long receivedNanos, Instant receivedAt, String owner) {
        String id = newId();
        Vm vm = new Vm(id, img.name(), clock.instant(), Phase.BUILDING);
        vm.owner = owner;
        if (forSpawn) vm.timings = Timings.start("cold", receivedAt);
        vms.put(id, vm);
        DomainSpec spec = new DomainSpec(id, img.name(), img.kernel(), img.memoryMiB(), img.vcpus(),
                ("xenops.id=" + id + " " + img.cmdline()).trim());
        memory.admitted(img.memoryMiB());
        String step = forSpawn ? "spawn.cold." : "pool.build.";
        return Future.fromCompletionStage(state.put(vm.record(VmRecord.Role.BUILDING), true), ctx)
                .compose(v -> {
                    faults.reach(step + "recorded");
                    return call("create", () -> driver.create(spec));
                })
                .compose(info -> {
                    faults.reach(step + "created");
                    vm.driverDetails = info.details();
                    Future<GuestMessage> ready = await(vm, "READY", config.bootTimeout());
                    Future<Void> unpaused = call("unpause", () -> driver.unpause(id));
                    faults.reach(step + "mid-unpause");
                    return unpaused.compose(v -> ready);
                })
                .compose(m -> {
                    faults.reach(step + "after-build");
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
                    return call("pause", () -> driver.pause(id)).compose(v -> {
                        vm.phase = Phase.POOLED;
                        return Future.fromCompletionStage(state.put(vm.record(VmRecord.Role.POOLED), false), ctx);
                    });
                })
                .map(v -> vm)
                .recover(err -> fail(vm, err));
    }

    // ---------------------------------------------------------------- pools

    /**
     * Sets a pool's target and starts a pool-fill task that follows it until the pool holds that many
     * ready VMs. A newer target supersedes (cancels) the previous fill task.
     */
    public PoolFill setPoolTarget(String image, int target, String callbackUrl) {
        Pool<Vm> pool = requirePool(image);
        pool.setTarget(target);
        if (callbackUrl != null) poolCallbacks.put(image, callbackUrl);
        Task previous = fills.remove(image);
        if (previous != null) tasks.cancel(previous.id());
        Task fill = tasks.start("pool-fill", image, () -> {
            // Cancelling a fill keeps what is ready and stops building more.
            fills.remove(image);
            pool.setTarget(Math.min(pool.target(), pool.readyCount()));
            kick(pool);
            poolChanged(pool);
        });
        fills.put(image, fill);
        kick(pool);
        poolChanged(pool);
        return new PoolFill(pool.view(), fill.id());
    }

    /** A pool and the fill task its new target started. */
    public record PoolFill(PoolView pool, String task) {}

    /** Publishes the change and moves the pool's fill task along. */
    private void poolChanged(Pool<Vm> pool) {
        events.publish("pool.changed", pool.image());
        Task fill = fills.get(pool.image());
        if (fill == null) return;
        if (pool.readyCount() >= pool.target()) {
            fills.remove(pool.image());
            tasks.succeed(fill, pool.view());
            String cb = poolCallbacks.get(pool.image());
            if (cb != null) notifier.notify(cb, "filled", pool.image(), pool.image());
        } else {
            tasks.progress(fill, pool.target() == 0 ? 1 : (double) pool.readyCount() / pool.target());
        }
    }

    // ---------------------------------------------------------------- invoke and async spawn

    /**
     * The per-request function call: a VM from the pool gets the input, its output is returned, and the VM
     * is destroyed right after (its destruction does not delay the answer).
     */
    public Future<InvocationView> invoke(String image, String input, Duration timeout, String owner, int maxVms,
                                         long receivedNanos, Instant receivedAt, String requestId) {
        SpawnRequest req = new SpawnRequest(image, true, input == null ? "" : input, timeout, owner, maxVms, null);
        Future<InvocationView> out = spawn(req, receivedNanos, receivedAt, requestId).map(v -> {
            Vm vm = vms.get(v.id());
            if (vm != null) destroy(v.id());
            return new InvocationView(v.image(), v.id(), v.result(), v.timings());
        });
        out.onComplete(ar -> metrics.invoke(ar.succeeded() ? ar.result().timings().path() : "unknown",
                ar.succeeded() ? "ok" : problemOf(ar.cause()), System.nanoTime() - receivedNanos));
        return out;
    }

    /** Starts a spawn tracked by a task and returns the task at once. Cancelling destroys the VM. */
    public TaskView spawnAsync(SpawnRequest req, long receivedNanos, Instant receivedAt, String requestId) {
        images.find(req.image()).orElseThrow(() -> new XenopsException.UnknownImage(req.image()));
        Task[] holder = new Task[1];
        String[] vmId = new String[1];
        holder[0] = tasks.start("spawn", req.image(), () -> {
            if (vmId[0] != null && vms.containsKey(vmId[0])) destroy(vmId[0]);
        });
        Task task = holder[0];
        spawn(req, receivedNanos, receivedAt, requestId).onComplete(ar -> {
            if (ar.failed()) {
                tasks.fail(task, mapError(ar.cause()));
            } else if (!task.running()) {
                destroy(ar.result().id()); // cancelled while it was being spawned
            } else {
                vmId[0] = ar.result().id();
                tasks.succeed(task, ar.result());
            }
        });
        return task.view();
    }

    public TaskView task(String id) { return tasks.get(id); }

    public List<TaskView> tasks() { return tasks.list(); }

    public TaskView cancelTask(String id) { return tasks.cancel(id); }

    private void kickAll() {
        for (Pool<Vm> p : pools.values()) kick(p);
    }

    /** Starts builds up to the pool's deficit and the global limits, and trims a pool over its target. */
    private void kick(Pool<Vm> pool) {
        recomputeInUse();
        if (stopping) return;
        List<Vm> surplus = pool.surplus();
        for (Vm extra : surplus) {
            extra.phase = Phase.DESTROYING;
            destroyNow(extra);
        }
        if (!surplus.isEmpty()) poolChanged(pool);
        Optional<Image> img = images.find(pool.image());
        if (img.isEmpty()) return;
        while (pool.deficit() > 0 && buildsInFlight < config.buildConcurrency() && live() < config.maxVms()
                && !memory.low() && memory.admits(img.get().memoryMiB())) {
            pool.buildStarted();
            buildsInFlight++;
            build(img.get(), false, System.nanoTime(), clock.instant(), null).onComplete(ar -> {
                buildsInFlight--;
                metrics.poolBuild(pool.image(), ar.succeeded() ? "ok" : problemOf(ar.cause()));
                if (ar.succeeded()) {
                    if (!pool.buildSucceeded(ar.result())) {
                        ar.result().phase = Phase.DESTROYING;
                        destroyNow(ar.result());
                    } else {
                        poolChanged(pool);
                    }
                } else {
                    Pool.Backoff backoff = pool.buildFailed(ar.cause().getMessage());
                    LOG.log(System.Logger.Level.WARNING, "pool {0}: build failed ({1}); retrying in {2} ms",
                            pool.image(), ar.cause().getMessage(), backoff.millis());
                    vertx.setTimer(backoff.millis(), t -> {
                        if (pool.backoffOver(backoff.ticket())) kick(pool);
                    });
                }
                kickAll(); // a finished build frees a build slot for any pool
            });
        }
        if (pool.deficit() > 0 && (memory.low() || !memory.admits(img.get().memoryMiB()))) heldBackByMemory = true;
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
        boolean wasVisible = vm.timings != null;
        return call("destroy", () -> driver.destroy(vm.id))
                .compose(v -> Future.fromCompletionStage(state.remove(vm.id), ctx))
                .onComplete(ar -> {
                    vms.remove(vm.id);
                    recomputeInUse();
                    if (wasVisible) events.publish("vm.destroyed", vm.id);
                    if (ar.failed()) {
                        LOG.log(System.Logger.Level.ERROR, "destroy of " + vm.id + " failed; retrying in "
                                + DESTROY_RETRY_FIRST_MS + " ms", ar.cause());
                        retryDestroy(vm.id, DESTROY_RETRY_FIRST_MS);
                    }
                });
    }

    private static final long DESTROY_RETRY_FIRST_MS = 100;
    private static final long DESTROY_RETRY_MAX_MS = 5_000;

    /**
     * Finishes a destroy that failed half-way (a read-only or failing state directory): the VM is already out of
     * every view, but its domain directory or record is not gone. Retried with backoff until it is, so nothing
     * waits for the next daemon start. The driver's destroy of an unknown id with a directory repairs it.
     */
    private void retryDestroy(String id, long delayMs) {
        vertx.setTimer(delayMs, t -> {
            if (stopping) return;
            call("destroy", () -> driver.destroy(id))
                    .compose(v -> Future.fromCompletionStage(state.remove(id), ctx))
                    .onComplete(ar -> {
                        if (ar.succeeded()) {
                            LOG.log(System.Logger.Level.INFO, "destroy of {0} finished on retry", id);
                        } else {
                            long next = Math.min(DESTROY_RETRY_MAX_MS, delayMs * 2);
                            LOG.log(System.Logger.Level.WARNING, "destroy of {0} failed again ({1}); retrying in {2} ms",
                                    id, ar.cause().getMessage(), next);
                            retryDestroy(id, next);
                        }
                    });
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
                if (!key.equals("READY")) vm.answered = true;
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
            events.publish(vm.phase == Phase.EXITED ? "vm.exited" : "vm.crashed", vm.id);
            if (vm.callbackUrl != null) notifier.notify(vm.callbackUrl, "exited", vm.id, vm.image);
        } else {
            // Not handed to anyone: forget it, and let the pool rebuild.
            Pool<Vm> pool = pools.get(vm.image);
            boolean wasPooled = pool != null && pool.remove(vm);
            vms.remove(vm.id);
            call("destroy", () -> driver.destroy(vm.id)).compose(v -> Future.fromCompletionStage(state.remove(vm.id), ctx))
                    .onFailure(err -> retryDestroy(vm.id, DESTROY_RETRY_FIRST_MS));
            if (wasPooled) {
                poolChanged(pool);
                kick(pool);
            }
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
    private <T> Future<T> call(String name, Supplier<CompletableFuture<T>> op) {
        long t0 = System.nanoTime();
        CompletableFuture<T> cf;
        try {
            cf = op.get();
        } catch (RuntimeException e) {
            metrics.driverOp(name, "error", System.nanoTime() - t0);
            return Future.failedFuture(e);
        }
        // Timed where the driver completes, not after the hop back onto our context.
        cf.whenComplete((v, err) -> metrics.driverOp(name, err == null ? "ok" : "error", System.nanoTime() - t0));
        return Future.fromCompletionStage(cf, ctx);
    }

    private static String problemOf(Throwable t) {
        return mapError(t).getClass().getSimpleName();
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
