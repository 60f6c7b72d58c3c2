package io.xenops.driver.libvirt;

import io.xenops.driver.DomainEvent;
import io.xenops.driver.DomainInfo;
import io.xenops.driver.DomainListener;
import io.xenops.driver.DomainSpec;
import io.xenops.driver.DomainState;
import io.xenops.driver.Driver;
import io.xenops.driver.DriverException;
import io.xenops.guest.GuestCommand;
import io.xenops.guest.GuestMessage;
import io.xenops.guest.GuestProtocol;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;
import org.libvirt.event.ConnectionCloseListener;
import org.libvirt.event.LifecycleListener;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The libvirt driver: xenopsd's warm pools on hosts that libvirt manages (QEMU/KVM, Xen through libxl),
 * through libvirt-java.
 *
 * <ul>
 *   <li>Pool members are transient domains created paused ({@code virDomainCreateXML} with
 *       VIR_DOMAIN_START_PAUSED) from XML generated from the spec ({@link DomainXml}).</li>
 *   <li>Ownership: the record is written to the state directory before the domain is created, and the
 *       domain carries an {@link OwnerTag} in its metadata; {@link #adopt()} touches only domains whose tag
 *       names this driver's state directory.</li>
 *   <li>Lifecycle comes from libvirt's domain events, delivered on the {@link LibvirtEventLoop} thread;
 *       nothing polls.</li>
 *   <li>libvirt-java's calls block (JNA into libvirt, often an RPC to libvirtd): every one runs on this
 *       driver's worker threads, never on the caller's. Methods return futures at once.</li>
 *   <li>The guest's line protocol goes over the serial console's unix socket, straight to QEMU.</li>
 * </ul>
 */
public final class LibvirtDriver implements Driver {
    private static final System.Logger LOG = System.getLogger(LibvirtDriver.class.getName());
    private static final String PANIC_PREFIX = "PANIC ";
    /** Ids become libvirt names and directory names: keep them to characters safe in both. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    /** unix(7): sun_path holds 108 bytes with its NUL. */
    static final int MAX_SOCKET_PATH = 107;
    /**
     * How long an end is held before it is classified. The runtime prints PANIC before it goes down; those
     * bytes are already in our socket when libvirt's event (which travels QEMU → libvirtd → us) arrives,
     * but the reader thread may not have split them yet.
     */
    private static final long END_GRACE_MILLIS = 20;
    private static final int EXITED_TAILS = 256;
    static final String LOCK_FILE = "libvirt-driver.lock";
    /** How long an unexplained SHUTDOWN waits for libvirt's STOPPED to say who ended the domain. */
    private static final long UNEXPLAINED_SHUTDOWN_MILLIS = 15_000;

    /** Where libvirt runs the domains, decided once per connection. */
    record Target(Hypervisor hypervisor, String domainType, String machine) {}

    private final LibvirtConfig config;
    private final LibvirtEventLoop loop;
    private final boolean ownsLoop;
    private final RecordStore store;
    private final ExecutorService workers;
    private final Map<String, LibvirtDomain> domains = new ConcurrentHashMap<>();
    private final Map<String, LibvirtDomain> byUuid = new ConcurrentHashMap<>();
    private final Map<String, String> exitedTails = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > EXITED_TAILS;
        }
    });
    // Held strongly: libvirt-java keeps JNA callbacks only as long as the Connect that registered them.
    private final LifecycleListener lifecycle = this::onLifecycle;
    private final ConnectionCloseListener closeListener = (c, reason) -> connectionLost(String.valueOf(reason));
    private final AtomicBoolean reconnecting = new AtomicBoolean();
    private volatile DomainListener listener = e -> { };
    private volatile Connect conn;
    private volatile Target target;
    private volatile boolean closed;
    /** Held while the driver lives: two drivers on one state directory would adopt and destroy each other's domains. */
    private final FileChannel lockFile;

    /** A driver with its own event loop (closed with the driver). Connects now: fails if libvirt is unreachable. */
    public LibvirtDriver(LibvirtConfig config) {
        this(config, new LibvirtEventLoop(), true);
    }

    /**
     * A driver on a shared event loop, which the caller closes after the driver. Connects now: fails if
     * libvirt is unreachable.
     */
    public LibvirtDriver(LibvirtConfig config, LibvirtEventLoop loop) {
        this(config, loop, false);
    }

    private LibvirtDriver(LibvirtConfig config, LibvirtEventLoop loop, boolean ownsLoop) {
        this.config = config;
        this.loop = loop;
        this.ownsLoop = ownsLoop;
        this.store = new RecordStore(config.domainsDir());
        this.lockFile = lockStateDir(config.stateDir());
        AtomicInteger n = new AtomicInteger();
        // Platform threads: a virtual thread inside a JNA call would pin its carrier for the whole call.
        this.workers = Executors.newFixedThreadPool(config.workers(),
                r -> Thread.ofPlatform().daemon().name("libvirt-worker-" + n.incrementAndGet()).unstarted(r));
        try {
            Connect c = open();
            this.target = probe(c);
            this.conn = c;
        } catch (LibvirtException | RuntimeException e) {
            workers.shutdownNow();
            closeQuietly(lockFile);
            if (ownsLoop) loop.close();
            throw e instanceof DriverException de ? de
                    : new DriverException("cannot use libvirt at " + config.uri() + ": " + message(e), e);
        }
        LOG.log(Level.INFO, "libvirt driver on {0}: {1}, domain type {2}, machine {3}", config.uri(),
                target.hypervisor(), target.domainType(), target.machine() == null ? "(libvirt default)" : target.machine());
    }

    private static FileChannel lockStateDir(Path stateDir) {
        try {
            Files.createDirectories(stateDir);
            FileChannel ch = FileChannel.open(stateDir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                if (ch.tryLock() != null) return ch;
            } catch (OverlappingFileLockException e) {
                // held by another driver in this JVM
            }
            ch.close();
            throw new DriverException("another libvirt driver uses the state directory " + stateDir);
        } catch (IOException e) {
            throw new DriverException("cannot lock the state directory " + stateDir + ": " + e.getMessage(), e);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close(); // releases the lock
        } catch (IOException ignored) {
            // the process ending releases it as well
        }
    }

    // ---------------------------------------------------------------- connection

    private Connect open() throws LibvirtException {
        Connect c = new Connect(config.uri());
        try {
            if (config.keepAliveSeconds() > 0) {
                try {
                    c.setKeepAlive(config.keepAliveSeconds(), 3);
                } catch (LibvirtException e) {
                    // In-process drivers (test:///default) have no keepalive; they cannot lose a peer either.
                }
            }
            c.addLifecycleListener(lifecycle);
            c.registerCloseListener(closeListener);
            return c;
        } catch (LibvirtException | RuntimeException e) {
            try {
                c.close();
            } catch (LibvirtException ignored) {
                // already failing
            }
            throw e;
        }
    }

    private Target probe(Connect c) throws LibvirtException {
        String type = c.getType();
        Hypervisor hv = Hypervisor.fromConnectType(type).orElseThrow(() -> new DriverException(
                "libvirt driver '" + type + "' at " + config.uri() + " is not supported: use a QEMU, Xen or test URI"));
        return switch (hv) {
            case QEMU -> probeQemu(c);
            case XEN -> new Target(hv, "xen", null);
            case TEST -> new Target(hv, "test", null);
        };
    }

    /** Reads the host's capabilities: whether KVM is offered for x86_64, and which machine types exist. */
    private Target probeQemu(Connect c) throws LibvirtException {
        boolean kvm = false;
        Set<String> machines = new HashSet<>();
        try {
            NodeList guests = Xml.parse(c.getCapabilities()).getElementsByTagName("guest");
            for (int i = 0; i < guests.getLength(); i++) {
                Element g = (Element) guests.item(i);
                NodeList arches = g.getElementsByTagName("arch");
                if (arches.getLength() == 0 || !"x86_64".equals(((Element) arches.item(0)).getAttribute("name"))) continue;
                NodeList ms = g.getElementsByTagName("machine");
                for (int j = 0; j < ms.getLength(); j++) machines.add(ms.item(j).getTextContent().trim());
                NodeList ds = g.getElementsByTagName("domain");
                for (int j = 0; j < ds.getLength(); j++) {
                    if ("kvm".equals(((Element) ds.item(j)).getAttribute("type"))) kvm = true;
                }
            }
        } catch (IOException e) {
            throw new DriverException("cannot read libvirt's capabilities: " + e.getMessage(), e);
        }
        if (machines.isEmpty()) throw new DriverException("libvirt at " + config.uri() + " offers no x86_64 QEMU guests");
        String domainType = switch (config.virtType()) {
            case KVM -> {
                if (!kvm) throw new DriverException("virtType KVM asked for, but libvirt at " + config.uri() + " does not offer KVM");
                yield "kvm";
            }
            case QEMU -> "qemu";
            case AUTO -> kvm ? "kvm" : "qemu";
        };
        String machine = config.machine();
        if (machine != null && !machines.contains(machine)) {
            LOG.log(Level.WARNING, "machine type {0} is not offered by this QEMU; using libvirt''s default (slower boot)", machine);
            machine = null;
        }
        return new Target(Hypervisor.QEMU, domainType, machine);
    }

    private Connect connection() {
        Connect c = conn;
        if (c == null) {
            throw new DriverException(closed ? "the libvirt driver is closed"
                    : "the connection to libvirt at " + config.uri() + " is down; reconnecting");
        }
        return c;
    }

    /** libvirt closed the connection (libvirtd restarted, network, keepalive timeout): reopen it. */
    private void connectionLost(String reason) {
        if (closed || !reconnecting.compareAndSet(false, true)) return;
        LOG.log(Level.WARNING, "connection to libvirt at {0} lost ({1}); reconnecting", config.uri(), reason);
        Connect old = conn;
        conn = null;
        Thread.ofPlatform().daemon().name("libvirt-reconnect").start(() -> {
            try {
                if (old != null) {
                    try {
                        old.close(); // frees our side; the peer is gone already
                    } catch (LibvirtException ignored) {
                        // nothing left to free
                    }
                }
                while (!closed) {
                    try {
                        Connect c = open();
                        resync(c);
                        conn = c;
                        LOG.log(Level.INFO, "reconnected to libvirt at {0}", config.uri());
                        return;
                    } catch (LibvirtException | RuntimeException e) {
                        LOG.log(Level.DEBUG, "reconnect to " + config.uri() + " failed: " + message(e));
                        Thread.sleep(config.reconnectDelay());
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                reconnecting.set(false);
            }
        });
    }

    /**
     * After a reconnect: events sent while we were away are lost, so ask libvirt about every domain we
     * hold. Handles belong to a connection and are replaced.
     */
    private void resync(Connect c) throws LibvirtException {
        long now = System.nanoTime();
        for (LibvirtDomain d : List.copyOf(domains.values())) {
            if (d.ended.get()) continue;
            try {
                // The old handle is dropped, not freed: a worker may be inside a call with it (libvirt-java
                // frees it when it is collected).
                Domain h = c.domainLookupByUUIDString(d.uuid);
                d.handle = h;
                DomainState s = stateOf(h);
                if (s == DomainState.EXITED) {
                    endSoon(d, EndSign.VANISHED, "shut off while the connection was down", now);
                } else {
                    d.state = s;
                }
            } catch (LibvirtException e) {
                if (code(e) != ErrorNumber.VIR_ERR_NO_DOMAIN) throw e;
                endSoon(d, EndSign.VANISHED, "gone while the connection to libvirt was down", now);
                workers.execute(() -> cleanup(d));
            }
        }
    }

    // ---------------------------------------------------------------- events

    /** libvirt's lifecycle callback, on the event-loop thread: classify quickly, hand slow work to workers. */
    private int onLifecycle(Domain dom, org.libvirt.event.DomainEvent ev) {
        long now = System.nanoTime();
        String uuid;
        try {
            uuid = dom.getUUIDString(); // local: a virDomainPtr carries its UUID
        } catch (LibvirtException e) {
            return 0;
        } finally {
            free(dom);
        }
        LibvirtDomain d = byUuid.get(uuid);
        if (d == null) return 0; // not ours
        Object detailObj = ev.getDetail();
        String detail = detailObj instanceof Enum<?> en ? en.name() : "";
        String what = ev.getType() + "/" + (detail.isEmpty() ? "?" : detail);
        switch (ev.getType()) {
            case RESUMED -> {
                if (!d.ended.get() && d.endNanos == 0) d.state = DomainState.RUNNING;
            }
            case SUSPENDED -> {
                if (!d.ended.get() && d.endNanos == 0) d.state = DomainState.PAUSED;
            }
            case SHUTDOWN -> endSoon(d, EndSign.GUEST_SHUTDOWN, what, now);
            case CRASHED -> endSoon(d, EndSign.GUEST_CRASHED, what, now);
            case STOPPED -> {
                EndSign sign = switch (detail) {
                    case "SHUTDOWN" -> EndSign.GUEST_SHUTDOWN;
                    case "DESTROYED" -> EndSign.DESTROYED;
                    case "CRASHED" -> EndSign.GUEST_CRASHED;
                    case "FAILED" -> EndSign.FAILED;
                    default -> EndSign.OTHER_STOP;
                };
                endSoon(d, sign, what, now);
                // The domain no longer exists in libvirt: what the driver made for it goes too.
                execute(() -> cleanup(d));
            }
            default -> { }
        }
        return 0;
    }

    /** Notes the first sign of the end now; reports it after a short grace (see {@link #END_GRACE_MILLIS}). */
    private void endSoon(LibvirtDomain d, EndSign sign, String what, long nanoTime) {
        d.noteEnd(nanoTime);
        d.state = DomainState.EXITED;
        if (d.ended.get()) return;
        CompletableFuture.delayedExecutor(END_GRACE_MILLIS, TimeUnit.MILLISECONDS, workers).execute(() -> report(d, sign, what, false));
    }

    /**
     * Reports the end once. A SHUTDOWN that neither our EXIT nor a PANIC line explains is held back: QEMU
     * also reports SHUTDOWN when the host signals it (virsh destroy), and libvirt-java folds the guest/host
     * detail away, so the STOPPED event that follows decides (DESTROYED, or SHUTDOWN: a guest that stopped
     * untold). The fallback only fires if libvirt never sends STOPPED.
     */
    private void report(LibvirtDomain d, EndSign sign, String what, boolean fallback) {
        if (d.ended.get()) return;
        if (sign == EndSign.GUEST_SHUTDOWN && !fallback && what.startsWith("SHUTDOWN")
                && d.panicLine == null && d.exitRequested == null) {
            CompletableFuture.delayedExecutor(UNEXPLAINED_SHUTDOWN_MILLIS, TimeUnit.MILLISECONDS, workers)
                    .execute(() -> report(d, sign, what, true));
            return;
        }
        if (!d.ended.compareAndSet(false, true)) return;
        if (d.quiet || !d.ready) return;
        EndSign.Exit x = sign.classify(d.panicLine, d.exitRequested, what);
        LOG.log(Level.DEBUG, "{0} ended: {1} {2}", d.id, x.reason(), x.detail());
        emit(new DomainEvent.Exited(d.id, x.reason(), x.detail(), d.endNanos));
    }

    private void onConsoleLine(LibvirtDomain d, String line, long nanoTime) {
        GuestMessage m = GuestProtocol.decode(line);
        if (m instanceof GuestMessage.Other o && o.line().startsWith(PANIC_PREFIX) && d.panicLine == null) d.panicLine = o.line();
        // Lines from a domain being created are seen (READY may come early) but only reported once it is
        // ours to report; lines after its end (the reset that follows EXIT) are noise.
        if (d.ready && d.endNanos == 0) emit(new DomainEvent.GuestSaid(d.id, m, nanoTime));
    }

    private void emit(DomainEvent e) {
        try {
            listener.onEvent(e);
        } catch (RuntimeException ex) {
            LOG.log(Level.WARNING, "domain listener failed on " + e, ex);
        }
    }

    // ---------------------------------------------------------------- Driver

    @Override
    public String kind() {
        return "libvirt";
    }

    @Override
    public void setListener(DomainListener listener) {
        this.listener = listener;
    }

    /** The hypervisor behind the URI, the {@code <domain type>} and machine the driver uses (for logs and health). */
    public Target target() {
        return target;
    }

    @Override
    public CompletableFuture<List<DomainInfo>> adopt() {
        return call("adopt", "", config.callTimeout(), this::doAdopt);
    }

    private List<DomainInfo> doAdopt() throws Exception {
        Connect c = connection();
        record Live(Domain handle, OwnerTag tag) {}
        Map<String, Live> ours = new HashMap<>();
        for (Domain h : c.listAllDomains(0)) {
            if (byUuid.containsKey(h.getUUIDString())) {
                // Held already (adopt called again) or being created now: creates register the UUID before
                // they ask libvirt, so a domain listed here is never mistaken for an orphan.
                free(h);
                continue;
            }
            Optional<OwnerTag> tag = ownerTag(h);
            if (tag.isPresent() && tag.get().ownedBy(config.stateDir())) {
                ours.put(h.getUUIDString(), new Live(h, tag.get()));
            } else {
                free(h); // not ours: looked at, never touched
            }
        }
        List<DomainInfo> adopted = new ArrayList<>();
        for (String id : store.ids()) {
            if (domains.containsKey(id)) continue; // already held (adopt called twice)
            Optional<DomainRecord> rec = store.read(id);
            if (rec.isEmpty()) {
                // A directory without its record: a create that died before it promised anything.
                store.remove(id);
                continue;
            }
            DomainRecord r = rec.get();
            Live live = ours.remove(r.uuid());
            if (live == null || !live.tag().id().equals(id)) {
                if (live != null) ours.put(r.uuid(), live); // tagged as ours under another id: an orphan, below
                store.remove(id); // the domain is gone: forget it
                continue;
            }
            DomainState state = stateOf(live.handle());
            if (!r.confirmed() || state == DomainState.EXITED) {
                LOG.log(Level.INFO, "destroying half-made or ended domain {0} ({1})", id, r.name());
                destroyQuietly(live.handle());
                store.remove(id);
                continue;
            }
            LibvirtDomain d = new LibvirtDomain(id, r.uuid(), r, true);
            d.handle = live.handle();
            d.state = state;
            domains.put(id, d);
            byUuid.put(d.uuid, d);
            try {
                if (target.hypervisor().hasSocketConsole()) d.console = openConsole(d, System.nanoTime() + TimeUnit.SECONDS.toNanos(2));
            } catch (IOException e) {
                // A pool member nobody can talk to is worthless, and a running one cannot be reached either.
                LOG.log(Level.WARNING, "console of {0} unreachable ({1}); destroying it", id, e.getMessage());
                d.quiet = true;
                destroyQuietly(live.handle());
                cleanup(d);
                continue;
            }
            d.ready = true;
            adopted.add(info(d));
        }
        for (Map.Entry<String, Live> orphan : ours.entrySet()) {
            // Tagged with our state directory but without a record: ours, and unaccounted for. Records come
            // first, so only a lost state directory leads here; what we cannot account for we do not keep.
            LOG.log(Level.WARNING, "destroying orphan domain {0} (tagged for {1}, no record)", orphan.getKey(), orphan.getValue().tag().id());
            destroyQuietly(orphan.getValue().handle());
        }
        return adopted;
    }

    @Override
    public CompletableFuture<DomainInfo> create(DomainSpec spec) {
        if (closed) return CompletableFuture.failedFuture(new DriverException("the libvirt driver is closed"));
        if (!ID.matcher(spec.id()).matches()) {
            return CompletableFuture.failedFuture(new DriverException("domain id must match " + ID.pattern() + ": " + spec.id()));
        }
        Target t = target;
        if (t.hypervisor().hasSocketConsole() && isRemote(config.uri())) {
            // The console is a unix socket on the libvirt host; from here it cannot be reached, and a domain
            // that cannot be told its arguments or heard saying READY is no use to the daemon.
            return CompletableFuture.failedFuture(new DriverException("the guest console of a QEMU domain is a unix socket on the libvirt host, "
                    + "unreachable through the remote URI " + config.uri() + ": run xenopsd on that host with a local URI (qemu:///system)"));
        }
        Path socket = store.consoleSocket(spec.id());
        if (t.hypervisor().hasSocketConsole() && socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            return CompletableFuture.failedFuture(new DriverException("console socket path " + socket + " is longer than "
                    + MAX_SOCKET_PATH + " bytes: use a shorter state directory"));
        }
        String uuid = UUID.randomUUID().toString();
        DomainRecord record = new DomainRecord(DomainRecord.VERSION, spec.id(), spec.image(), config.namePrefix() + spec.id(), uuid,
                config.uri(), spec.kernel().toAbsolutePath().toString(), spec.memoryMiB(), spec.vcpus(), spec.cmdline(),
                System.currentTimeMillis(), false);
        LibvirtDomain d = new LibvirtDomain(spec.id(), uuid, record, false);
        if (domains.putIfAbsent(spec.id(), d) != null) {
            return CompletableFuture.failedFuture(new DriverException("a domain with id " + spec.id() + " exists already"));
        }
        CompletableFuture<DomainInfo> result = new CompletableFuture<>();
        try {
            workers.execute(() -> {
                try {
                    DomainInfo info = build(d, spec, t);
                    if (!result.complete(info)) abandon(d); // the caller gave up (timeout): nobody will use it
                } catch (Throwable e) {
                    abandon(d);
                    result.completeExceptionally(failure("create", spec.id(), e));
                }
            });
        } catch (RejectedExecutionException e) {
            domains.remove(spec.id(), d);
            return CompletableFuture.failedFuture(new DriverException("the libvirt driver is closed"));
        }
        CompletableFuture.delayedExecutor(config.createTimeout().toMillis(), TimeUnit.MILLISECONDS).execute(() ->
                result.completeExceptionally(new DriverException("create of " + spec.id() + " did not finish within "
                        + config.createTimeout().toMillis() + " ms")));
        return result;
    }

    /** Record, create paused, connect the console, confirm. Runs on a worker. */
    private DomainInfo build(LibvirtDomain d, DomainSpec spec, Target t) throws Exception {
        try {
            store.create(d.record); // the promise comes before the domain
        } catch (FileAlreadyExistsException e) {
            throw new DriverException("state directory " + store.dir(d.id) + " exists already (an id in use, or debris adopt must clean)", e);
        }
        byUuid.put(d.uuid, d); // before creation: libvirt's first events may beat createXML's return
        String xml = new DomainXml(t.hypervisor(), t.domainType(), t.machine(), config.cpuModel(), d.record.name(), UUID.fromString(d.uuid),
                spec, t.hypervisor().hasSocketConsole() ? store.consoleSocket(d.id) : null,
                new OwnerTag(d.id, spec.image(), config.stateDir().toString()),
                t.hypervisor() == Hypervisor.QEMU ? config.qemuArgs() : List.of()).render();
        Connect c = connection();
        Domain h = c.domainCreateXML(xml, t.hypervisor().startsPaused() ? Domain.CreateFlags.PAUSED : Domain.CreateFlags.NONE);
        d.handle = h;
        if (!t.hypervisor().startsPaused()) h.suspend(); // test driver only: nothing runs in the mock
        if (d.endNanos == 0) d.state = DomainState.PAUSED;
        if (t.hypervisor().hasSocketConsole()) {
            d.console = openConsole(d, System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
        }
        DomainRecord confirmed = d.record.confirm();
        store.write(confirmed);
        d.record = confirmed;
        if (d.endNanos != 0) throw new DriverException("domain " + d.id + " ended while it was being created");
        d.ready = true;
        return info(d);
    }

    /** Destroys what a failed or abandoned create made. Never reports an end. */
    private void abandon(LibvirtDomain d) {
        d.quiet = true;
        Domain h = d.handle;
        if (h != null) {
            try {
                destroyOrGone(h);
            } catch (LibvirtException | RuntimeException e) {
                LOG.log(Level.WARNING, "destroying " + d.id + " after its create failed: " + message(e));
            }
        }
        cleanup(d);
    }

    private GuestConsole openConsole(LibvirtDomain d, long deadlineNanos) throws IOException, InterruptedException {
        Path sock = store.consoleSocket(d.id);
        while (true) {
            try {
                GuestConsole c = GuestConsole.connect(sock, d.id, config.consoleTailBytes());
                c.start(new GuestConsole.Sink() {
                    @Override
                    public void onLine(String line, long nanoTime) {
                        onConsoleLine(d, line, nanoTime);
                    }

                    @Override
                    public void onClosed() {
                        // QEMU closed its end. libvirt's STOPPED event, not this, says why and when it ended.
                    }
                });
                return c;
            } catch (IOException e) {
                // libvirt binds the socket before QEMU runs, so this retry only covers slow hosts.
                if (System.nanoTime() > deadlineNanos) throw new IOException("no console at " + sock + ": " + e.getMessage(), e);
                Thread.sleep(2);
            }
        }
    }

    @Override
    public CompletableFuture<Void> unpause(String id) {
        LibvirtDomain d = domains.get(id);
        if (d == null || !d.ready) return CompletableFuture.failedFuture(new DriverException.NoSuchDomain(id));
        return call("unpause", id, config.callTimeout(), () -> {
            Domain h = handle(d);
            try {
                h.resume();
            } catch (LibvirtException e) {
                // Resuming a running domain is an error to libvirt (each driver words it differently); to the
                // daemon it is done. Only this error path pays for the extra look.
                if (stateOf(h) != DomainState.RUNNING) throw e;
            }
            if (d.endNanos == 0) d.state = DomainState.RUNNING;
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> pause(String id) {
        LibvirtDomain d = domains.get(id);
        if (d == null || !d.ready) return CompletableFuture.failedFuture(new DriverException.NoSuchDomain(id));
        return call("pause", id, config.callTimeout(), () -> {
            Domain h = handle(d);
            try {
                h.suspend();
            } catch (LibvirtException e) {
                if (stateOf(h) != DomainState.PAUSED) throw e;
            }
            if (d.endNanos == 0) d.state = DomainState.PAUSED;
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> send(String id, GuestCommand command) {
        LibvirtDomain d = domains.get(id);
        if (d == null || !d.ready) return CompletableFuture.failedFuture(new DriverException.NoSuchDomain(id));
        GuestConsole c = d.console;
        if (c == null) {
            return CompletableFuture.failedFuture(new DriverException("domain " + id + " has no console the driver can reach on "
                    + target.hypervisor() + " (" + config.uri() + ")"));
        }
        if (command instanceof GuestCommand.Exit x) d.exitRequested = x.code();
        // Straight to the socket: no libvirt call, so no worker hop on the request path.
        return c.send(GuestProtocol.encode(command)).handle((v, e) -> {
            if (e != null) throw new CompletionException(new DriverException("cannot send to " + id + ": its console is closed", e));
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> destroy(String id) {
        LibvirtDomain d = domains.get(id);
        if (d == null) {
            // Not held (never adopted, or already gone): a record alone still names a domain we own.
            return call("destroy", id, config.callTimeout(), () -> {
                destroyByRecord(id);
                return null;
            });
        }
        d.quiet = true;
        return call("destroy", id, config.callTimeout(), () -> {
            Domain h = d.handle;
            if (h == null) {
                h = lookup(d.uuid);
            }
            if (h != null) destroyOrGone(h);
            cleanup(d);
            return null;
        });
    }

    private void destroyByRecord(String id) throws Exception {
        if (!ID.matcher(id).matches()) return;
        Optional<DomainRecord> r = store.read(id);
        if (r.isEmpty()) {
            store.remove(id);
            return;
        }
        Domain h = lookup(r.get().uuid());
        if (h != null) {
            // Only a domain that carries our tag: a record cannot make us destroy someone else's domain.
            Optional<OwnerTag> tag = ownerTag(h);
            if (tag.isPresent() && tag.get().ownedBy(config.stateDir()) && tag.get().id().equals(id)) destroyOrGone(h);
            free(h);
        }
        store.remove(id);
    }

    @Override
    public List<DomainInfo> list() {
        List<DomainInfo> out = new ArrayList<>();
        for (LibvirtDomain d : domains.values()) {
            if (d.ready && !d.ended.get()) out.add(info(d));
        }
        return out;
    }

    @Override
    public String console(String id) {
        LibvirtDomain d = domains.get(id);
        if (d != null) {
            GuestConsole c = d.console;
            return c == null ? "" : c.tail();
        }
        String t = exitedTails.get(id);
        if (t != null) return t;
        throw new DriverException.NoSuchDomain(id);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (LibvirtDomain d : domains.values()) {
            GuestConsole c = d.console;
            if (c != null) c.close(); // the domains themselves stay: the daemon may be restarting
        }
        workers.shutdown();
        try {
            if (!workers.awaitTermination(5, TimeUnit.SECONDS)) workers.shutdownNow();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            workers.shutdownNow();
        }
        Connect c = conn;
        conn = null;
        if (c != null) {
            try {
                c.removeLifecycleListener(lifecycle);
                c.unregisterCloseListener();
            } catch (LibvirtException | RuntimeException e) {
                LOG.log(Level.DEBUG, "deregistering from libvirt: " + message(e));
            }
            try {
                c.close();
            } catch (LibvirtException e) {
                LOG.log(Level.DEBUG, "closing the libvirt connection: " + message(e));
            }
        }
        domains.clear();
        byUuid.clear();
        closeQuietly(lockFile);
        if (ownsLoop) loop.close();
    }

    // ---------------------------------------------------------------- helpers

    /** Removes what the driver made for a domain: console, maps, state directory. Once. */
    private void cleanup(LibvirtDomain d) {
        // Both destroy() and libvirt's lifecycle event may get here; whoever comes second waits until the
        // first has finished, so that destroy() never completes while the record is still being removed.
        synchronized (d) {
            if (!d.cleaned.compareAndSet(false, true)) return;
            GuestConsole c = d.console;
            if (c != null) {
                exitedTails.put(d.id, c.tail());
                c.close();
            }
            domains.remove(d.id, d);
            byUuid.remove(d.uuid, d);
            try {
                store.remove(d.id);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "cannot remove the state of " + d.id + ": " + e.getMessage());
            }
        }
        // d.handle is not freed here: another thread may still be inside a call with it. libvirt-java frees
        // handles when they are collected; only handles confined to one method are freed explicitly.
    }

    private Domain handle(LibvirtDomain d) throws LibvirtException {
        connection(); // fail clearly while reconnecting rather than with a stale handle's error
        Domain h = d.handle;
        if (h == null) throw new DriverException.NoSuchDomain(d.id);
        return h;
    }

    private Domain lookup(String uuid) throws LibvirtException {
        try {
            return connection().domainLookupByUUIDString(uuid);
        } catch (LibvirtException e) {
            if (code(e) == ErrorNumber.VIR_ERR_NO_DOMAIN) return null;
            throw e;
        }
    }

    /** virDomainDestroy, where "it is gone already" counts as success. */
    private static void destroyOrGone(Domain h) throws LibvirtException {
        try {
            h.destroy();
        } catch (LibvirtException e) {
            ErrorNumber code = code(e);
            if (code != ErrorNumber.VIR_ERR_NO_DOMAIN && code != ErrorNumber.VIR_ERR_OPERATION_INVALID) throw e;
        }
    }

    private static void destroyQuietly(Domain h) {
        try {
            destroyOrGone(h);
        } catch (LibvirtException e) {
            LOG.log(Level.WARNING, "destroy failed: " + message(e));
        } finally {
            free(h);
        }
    }

    private static Optional<OwnerTag> ownerTag(Domain h) throws LibvirtException {
        try {
            return OwnerTag.parse(h.getMetadata(Domain.MetadataType.ELEMENT, OwnerTag.NAMESPACE, 0));
        } catch (LibvirtException e) {
            ErrorNumber code = code(e);
            if (code == ErrorNumber.VIR_ERR_NO_DOMAIN_METADATA || code == ErrorNumber.VIR_ERR_NO_DOMAIN) return Optional.empty();
            throw e;
        } catch (NullPointerException e) {
            return Optional.empty(); // libvirt-java dereferences a null result when libvirt set no error
        }
    }

    private static DomainState stateOf(Domain h) throws LibvirtException {
        return switch (h.getInfo().state) {
            case VIR_DOMAIN_RUNNING, VIR_DOMAIN_BLOCKED -> DomainState.RUNNING;
            case VIR_DOMAIN_PAUSED, VIR_DOMAIN_PMSUSPENDED -> DomainState.PAUSED;
            default -> DomainState.EXITED;
        };
    }

    private DomainInfo info(LibvirtDomain d) {
        Target t = target;
        Map<String, String> common = new LinkedHashMap<>();
        common.put("kind", "libvirt");
        common.put("uri", config.uri());
        common.put("hypervisor", t.hypervisor().name().toLowerCase(Locale.ROOT));
        common.put("domainType", t.domainType());
        return d.info(common);
    }

    private void execute(Runnable r) {
        try {
            workers.execute(r);
        } catch (RejectedExecutionException e) {
            // closing: the domain's state stays on disk for the next adopt
        }
    }

    /** Runs a blocking libvirt operation on a worker, bounded, with its failure translated for the daemon. */
    private <T> CompletableFuture<T> call(String op, String id, java.time.Duration timeout, Callable<T> body) {
        CompletableFuture<T> f = new CompletableFuture<>();
        try {
            workers.execute(() -> {
                try {
                    f.complete(body.call());
                } catch (Throwable e) {
                    f.completeExceptionally(failure(op, id, e));
                }
            });
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new DriverException("the libvirt driver is closed"));
        }
        CompletableFuture.delayedExecutor(timeout.toMillis(), TimeUnit.MILLISECONDS).execute(() ->
                f.completeExceptionally(new DriverException("libvirt did not finish " + op + " " + id + " within " + timeout.toMillis() + " ms")));
        return f;
    }

    private static Throwable failure(String op, String id, Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof DriverException) return cause;
        if (cause instanceof LibvirtException le) {
            ErrorNumber code = code(le);
            String msg = message(le);
            if (code == ErrorNumber.VIR_ERR_NO_DOMAIN) return new DriverException.NoSuchDomain(id);
            String lower = msg.toLowerCase(Locale.ROOT);
            if (lower.contains("cannot allocate memory") || lower.contains("out of memory")
                    || lower.contains("resource temporarily unavailable") || lower.contains("too many open files")) {
                return new DriverException.OutOfCapacity("libvirt " + op + " " + id + ": " + msg, le);
            }
            return new DriverException("libvirt " + op + " " + id + " failed: " + msg, le);
        }
        if (cause instanceof InterruptedException) Thread.currentThread().interrupt();
        return new DriverException(op + " " + id + " failed: " + message(cause), cause);
    }

    /** True when the URI names another host (qemu+ssh://host/system); local transports have no host part. */
    static boolean isRemote(String uri) {
        try {
            String host = java.net.URI.create(uri).getHost();
            return host != null && !host.isEmpty() && !host.equals("localhost") && !host.equals("127.0.0.1") && !host.equals("::1");
        } catch (IllegalArgumentException e) {
            return false; // libvirt accepted it; it has no host part Java can see
        }
    }

    private static ErrorNumber code(LibvirtException e) {
        return e.getError() == null ? null : e.getError().getCode();
    }

    private static String message(Throwable e) {
        if (e instanceof LibvirtException le && le.getError() != null && le.getError().getMessage() != null) {
            return le.getError().getMessage();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static void free(Domain h) {
        if (h == null) return;
        try {
            h.free();
        } catch (LibvirtException | RuntimeException ignored) {
            // freeing a handle cannot meaningfully fail
        }
    }
}
