package io.xenops.driver.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xenops.driver.DomainEvent;
import io.xenops.driver.DomainEvent.ExitReason;
import io.xenops.driver.DomainInfo;
import io.xenops.driver.DomainListener;
import io.xenops.driver.DomainSpec;
import io.xenops.driver.DomainState;
import io.xenops.driver.Driver;
import io.xenops.driver.DriverException;
import io.xenops.guest.GuestCommand;
import io.xenops.guest.GuestMessage;
import io.xenops.guest.GuestProtocol;
import io.xenops.qmp.QmpClient;
import io.xenops.qmp.QmpClosedException;
import io.xenops.qmp.QmpCommandException;
import io.xenops.qmp.QmpListener;
import io.xenops.qmp.QmpMessage;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Runs each domain as one QEMU process (microvm, paused with {@code -S}), controlled over QMP and
 * spoken to over its serial console socket. See docs/qemu-driver.md for the directory layout and the
 * crash-repair rules.
 *
 * <p>Request path ({@link #unpause}, {@link #pause}, {@link #send}): one write to an already open socket;
 * the future completes when QEMU (or the socket) has taken it. No process is started, no file written,
 * nothing polled. Everything slow (starting QEMU, adopting, destroying, probing KVM) runs on the
 * driver's own virtual threads.
 */
public final class QemuDriver implements Driver {
    private static final System.Logger LOG = System.getLogger(QemuDriver.class.getName());

    /** Reserved for the accelerator probe's throwaway VMs; never a daemon domain. */
    static final String PROBE_DIR = "probe";
    /** Candidate {@code -cpu} models for KVM, in order of preference. */
    static final List<String> KVM_CPU_CANDIDATES = List.of(
            "host",
            // kvm-pvm cannot set IA32_ARCH_CAPABILITIES: QEMU aborts at start with "host" or "max".
            "host,-arch-capabilities",
            "max,-arch-capabilities");
    /** How long end-of-life waits for QEMU's last QMP events and console lines after it died. */
    private static final Duration DRAIN = Duration.ofMillis(500);
    /** What the runtime prints before it resets the machine on a fatal error (unikernel/runtime/src/panic.rs). */
    static final String PANIC_PREFIX = "PANIC ";
    /** How many exited domains' console tails stay readable after their directory is gone. */
    private static final int EXITED_TAILS = 32;

    private final QemuConfig config;
    private final ObjectMapper mapper;
    private final ProcTable proc;
    private final DomainStore store;
    private final DomainStore probeStore;
    private final StateLock stateLock;
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, QemuDomain> domains = new ConcurrentHashMap<>();
    private final Map<String, String> exitedTails = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > EXITED_TAILS;
        }
    });
    private final AtomicLong probeCounter = new AtomicLong();
    private volatile DomainListener listener = e -> { };
    private volatile boolean closed;
    private CompletableFuture<AccelChoice> accel; // guarded by this

    public QemuDriver(QemuConfig config) {
        this(config, new ObjectMapper());
    }

    public QemuDriver(QemuConfig config, ObjectMapper mapper) {
        this(config, mapper, new ProcTable(Path.of("/proc")));
    }

    QemuDriver(QemuConfig config, ObjectMapper mapper, ProcTable proc) {
        this.config = config;
        this.mapper = mapper;
        this.proc = proc;
        this.store = new DomainStore(config.domainsDir(), mapper);
        this.probeStore = new DomainStore(config.stateDir().resolve(PROBE_DIR), mapper);
        this.stateLock = new StateLock(config.stateDir());
    }

    @Override
    public String kind() {
        return "qemu";
    }

    public QemuConfig config() {
        return config;
    }

    @Override
    public void setListener(DomainListener listener) {
        this.listener = listener;
    }

    private void emit(DomainEvent event) {
        try {
            listener.onEvent(event);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "domain listener failed on " + event, e);
        }
    }

    // ---------------------------------------------------------------- accelerator

    /**
     * The accelerator decision, probing on first use (AUTO starts throwaway QEMUs: about 50 ms to a few
     * hundred). The daemon calls this at startup to log it; create() waits for it.
     */
    public synchronized CompletableFuture<AccelChoice> accelChoice() {
        if (accel == null) {
            accel = CompletableFuture.supplyAsync(this::decideAccel, workers);
            accel.whenComplete((c, e) -> {
                if (e != null) LOG.log(Level.ERROR, "no usable accelerator", e);
                else LOG.log(Level.INFO, "QEMU accelerator: -accel {0} -cpu {1} ({2})", c.accel(), c.cpu(), c.reason());
            });
        }
        return accel;
    }

    /** Blocking form of {@link #accelChoice()}: what VMs run with, and why. */
    public AccelChoice accel() {
        return accelChoice().join();
    }

    private AccelChoice decideAccel() {
        return switch (config.accel()) {
            case TCG -> new AccelChoice("tcg", orDefault(config.cpu(), "max"), "configured");
            case KVM -> {
                String why = kvmDeviceProblem();
                if (why != null) throw new DriverException("accel=kvm configured but " + why);
                // Both given: the operator knows; probing would only cost a QEMU start.
                if (config.cpu() != null) yield new AccelChoice("kvm", config.cpu(), "configured");
                List<String> failures = new ArrayList<>();
                AccelChoice c = probeKvm(failures);
                if (c == null) throw new DriverException("accel=kvm configured but no -cpu model works under KVM: "
                        + String.join("; ", failures));
                yield c;
            }
            case AUTO -> {
                String why = kvmDeviceProblem();
                if (why != null) yield new AccelChoice("tcg", orDefault(config.cpu(), "max"), why);
                List<String> failures = new ArrayList<>();
                AccelChoice c = probeKvm(failures);
                yield c != null ? c : new AccelChoice("tcg", orDefault(config.cpu(), "max"),
                        "KVM present but unusable: " + String.join("; ", failures));
            }
        };
    }

    private static String orDefault(String v, String d) {
        return v != null ? v : d;
    }

    private static String kvmDeviceProblem() {
        Path kvm = Path.of("/dev/kvm");
        if (!Files.exists(kvm)) return "/dev/kvm does not exist";
        try (RandomAccessFile f = new RandomAccessFile(kvm.toFile(), "rw")) {
            return null;
        } catch (IOException e) {
            return "/dev/kvm cannot be opened read-write: " + e.getMessage();
        }
    }

    private AccelChoice probeKvm(List<String> failures) {
        List<String> cpus = config.cpu() != null ? List.of(config.cpu()) : KVM_CPU_CANDIDATES;
        for (String cpu : cpus) {
            AccelChoice candidate = new AccelChoice("kvm", cpu, null);
            try {
                String how = config.probeKernel() != null ? probeBoot(candidate) : probePaused(candidate);
                return new AccelChoice("kvm", cpu, how);
            } catch (Exception e) {
                String msg = "-cpu " + cpu + ": " + rootMessage(e);
                LOG.log(Level.DEBUG, "KVM probe failed, " + msg);
                failures.add(msg);
            }
        }
        return null;
    }

    /** Boots the probe kernel to READY: the only proof that KVM can run our guests. */
    private String probeBoot(AccelChoice candidate) throws Exception {
        String id = "probe-" + ProcessHandle.current().pid() + "-" + probeCounter.incrementAndGet();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Consumer<DomainEvent> sink = e -> {
            switch (e) {
                case DomainEvent.GuestSaid s when s.message() instanceof GuestMessage.Ready -> ready.complete(null);
                case DomainEvent.Exited x -> ready.completeExceptionally(
                        new DriverException("probe VM exited: " + x.reason() + " " + x.detail()));
                default -> { }
            }
        };
        DomainSpec spec = new DomainSpec(id, "accel-probe", config.probeKernel(), 32, 1, "xenops.id=" + id);
        long t0 = System.nanoTime();
        QemuDomain d = launch(probeStore, spec, candidate, sink, false);
        try {
            d.qmp.execute("cont").get(config.probeTimeout().toMillis(), TimeUnit.MILLISECONDS);
            ready.get(config.probeTimeout().toMillis(), TimeUnit.MILLISECONDS);
            return "booted " + config.probeKernel().getFileName() + " to READY under KVM in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms";
        } catch (TimeoutException e) {
            throw new DriverException("probe kernel printed no READY within " + config.probeTimeout().toMillis()
                    + " ms; console: " + abbreviate(d.console.tail()));
        } finally {
            end(d, true);
        }
    }

    /** Without a kernel: can QEMU at least start a paused VM with this CPU model under KVM? */
    private String probePaused(AccelChoice candidate) throws Exception {
        String id = "paused-" + ProcessHandle.current().pid() + "-" + probeCounter.incrementAndGet();
        Path dir = config.stateDir().resolve(PROBE_DIR).resolve(id);
        Files.createDirectories(dir);
        Path sock = dir.resolve(QemuCommandLine.QMP_SOCKET);
        Process p = new ProcessBuilder(config.qemuBinary(), "-name", QemuCommandLine.NAME_PREFIX + id, "-M", config.machine(), "-S",
                "-nodefaults", "-nographic", "-accel", "kvm", "-cpu", candidate.cpu(), "-m", "4",
                "-qmp", "unix:" + sock + ",server=on,wait=off")
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve(QemuCommandLine.QEMU_LOG).toFile())
                .start();
        try {
            QmpClient q = connectQmp(sock, p, System.nanoTime() + config.probeTimeout().toNanos(), e -> { }, () -> { });
            try {
                String status = q.execute("query-status").get(config.probeTimeout().toMillis(), TimeUnit.MILLISECONDS)
                        .path("status").asText();
                return "started a paused VM under KVM (status " + status + "); no probe kernel configured to prove it boots";
            } finally {
                q.close();
            }
        } catch (Exception e) {
            if (!p.isAlive()) throw new DriverException(logTail(dir.resolve(QemuCommandLine.QEMU_LOG)), e);
            throw e;
        } finally {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
            deleteTree(dir);
        }
    }

    // ---------------------------------------------------------------- create

    @Override
    public CompletableFuture<DomainInfo> create(DomainSpec spec) {
        if (closed) return CompletableFuture.failedFuture(new DriverException("driver is closed"));
        try {
            QemuCommandLine.requireValidId(spec.id());
            QemuCommandLine.requireSocketPathFits(store.dir(spec.id()));
            if (!Files.isReadable(spec.kernel())) throw new IllegalArgumentException("kernel not readable: " + spec.kernel());
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(new DriverException(e.getMessage(), e));
        }
        try {
            stateLock.acquire();
        } catch (DriverException e) {
            return CompletableFuture.failedFuture(e);
        }
        return accelChoice().thenApplyAsync(choice -> {
            try {
                QemuDomain d = launch(store, spec, choice, this::emit, true);
                if (closed) {
                    // The VM is recorded and complete: the next driver's adopt() will find it.
                    detach(d);
                    throw new DriverException("driver closed while creating " + spec.id());
                }
                return d.info();
            } catch (DriverException e) {
                throw e;
            } catch (Exception e) {
                throw new DriverException("cannot create " + spec.id() + ": " + rootMessage(e), e);
            }
        }, workers);
    }

    /**
     * Records, starts, connects. On any failure the process is killed and the directory removed before
     * the exception propagates, so a failed create leaves nothing behind.
     */
    private QemuDomain launch(DomainStore where, DomainSpec spec, AccelChoice choice, Consumer<DomainEvent> sink,
                              boolean register) throws Exception {
        long t0 = System.nanoTime();
        long deadline = t0 + config.createTimeout().toNanos();
        DomainRecord record = new DomainRecord(DomainRecord.VERSION, spec.id(), spec.image(),
                spec.kernel().toAbsolutePath().toString(), spec.memoryMiB(), spec.vcpus(), spec.cmdline(),
                choice.accel(), choice.cpu(), System.currentTimeMillis(), null);
        if (register && domains.containsKey(spec.id())) throw new DriverException("domain " + spec.id() + " exists");
        // Recorded before created: from here a crash leaves a record adopt will repair.
        try {
            where.create(record);
        } catch (FileAlreadyExistsException e) {
            throw new DriverException("domain " + spec.id() + " exists (directory " + where.dir(spec.id()) + ")");
        }
        Path dir = where.dir(spec.id());
        long tRecorded = System.nanoTime();
        List<String> argv = new ArrayList<>();
        argv.add(config.setsid());
        argv.addAll(QemuCommandLine.build(config.qemuBinary(), config.machine(), choice, spec, dir,
                config.consoleLogFile(), config.extraArgs()));
        Process process;
        try {
            process = new ProcessBuilder(argv)
                    .directory(new File("/"))
                    // Not pipes: a pipe to a dead daemon would SIGPIPE the VM. The VM must outlive us.
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(QemuCommandLine.QEMU_LOG).toFile()))
                    .start();
        } catch (IOException e) {
            where.remove(spec.id());
            String m = String.valueOf(e.getMessage());
            if (m.contains("error=11") || m.contains("error=12") || m.contains("error=24")) {
                throw new DriverException.OutOfCapacity("cannot start QEMU for " + spec.id() + ": " + m, e);
            }
            throw e;
        }
        long tStarted = System.nanoTime();
        QemuDomain d = new QemuDomain(spec.id(), where, sink, process, record);
        d.accel = choice;
        if (register && domains.putIfAbsent(spec.id(), d) != null) {
            // Lost a race with a concurrent create of the same id after our directory check: impossible
            // (createDirectory is exclusive), but never leave a process behind on a broken assumption.
            process.destroyForcibly();
            throw new DriverException("domain " + spec.id() + " exists");
        }
        process.onExit().thenRun(() -> onEndSign(d, "process exited"));
        try {
            d.qmp = connectQmp(dir.resolve(QemuCommandLine.QMP_SOCKET), process, deadline, qmpListener(d),
                    () -> d.qmpClosed.complete(null));
            long tQmp = System.nanoTime();
            d.console = connectConsole(d, deadline);
            JsonNode status = d.qmp.execute("query-status").get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
            if (!"prelaunch".equals(status.path("status").asText()) && !"paused".equals(status.path("status").asText())) {
                throw new DriverException("new VM is " + status.path("status").asText() + ", not paused");
            }
            long pidFromFile = readPidfile(dir);
            if (pidFromFile != 0 && pidFromFile != process.pid()) {
                // setsid forks only when its caller leads a process group, which a JVM child never does.
                throw new DriverException("QEMU pid " + pidFromFile + " is not the started process " + process.pid()
                        + "; setsid forked?");
            }
            d.record = record.withPid(process.pid());
            where.write(d.record, false);
            long tDone = System.nanoTime();
            LOG.log(Level.DEBUG, () -> String.format(java.util.Locale.ROOT,
                    "created %s in %.1f ms: record %.1f, spawn %.1f, QMP %.1f, console+status+pid %.1f",
                    spec.id(), (tDone - t0) / 1e6, (tRecorded - t0) / 1e6, (tStarted - tRecorded) / 1e6,
                    (tQmp - tStarted) / 1e6, (tDone - tQmp) / 1e6));
            d.state = DomainState.PAUSED;
            d.ready = true;
            if (d.firstSignOfEnd != 0) onEndSign(d, "ended while being created");
            return d;
        } catch (Exception e) {
            String log = logTail(dir.resolve(QemuCommandLine.QEMU_LOG));
            end(d, true);
            // QEMU's own words (bad machine, MSR failure, missing kernel) are the useful part.
            throw new DriverException("cannot create " + spec.id() + ": "
                    + (e instanceof DriverException ? e.getMessage() : rootMessage(e))
                    + (log.isEmpty() ? "" : "; QEMU said: " + abbreviate(log)), e);
        }
    }

    /**
     * QEMU creates its sockets some 20 to 40 ms after exec; retrying connect is the simplest wait and
     * this is the build path, not the request path.
     */
    private QmpClient connectQmp(Path sock, Process process, long deadline, QmpListener l, Runnable onDisconnect)
            throws Exception {
        QmpListener listener = new QmpListener() {
            @Override
            public void onEvent(QmpMessage.Event event) {
                l.onEvent(event);
            }

            @Override
            public void onDisconnect(Throwable cause) {
                onDisconnect.run(); // first: the end sequence waits for this to know all events are in
                l.onDisconnect(cause);
            }
        };
        while (true) {
            if (process != null && !process.isAlive()) throw new DriverException("QEMU exited while starting");
            if (System.nanoTime() > deadline) throw new TimeoutException("no QMP socket at " + sock);
            try {
                return QmpClient.connect(sock, mapper, listener, Duration.ofMillis(remainingMillis(deadline)))
                        .get(remainingMillis(deadline) + 100, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof IOException) || e.getCause() instanceof QmpClosedException) {
                    throw e;
                }
                Thread.sleep(1);
            }
        }
    }

    private Console connectConsole(QemuDomain d, long deadline) throws Exception {
        Path sock = d.dir.resolve(QemuCommandLine.CONSOLE_SOCKET);
        while (true) {
            try {
                Console c = new Console(Console.open(sock), d.id, config.consoleTailBytes(), GuestProtocol.MAX_LINE);
                c.start((line, nanoTime) -> {
                    GuestMessage m = GuestProtocol.decode(line);
                    if (m instanceof GuestMessage.Other o && o.line().startsWith(PANIC_PREFIX) && d.panicLine == null) {
                        d.panicLine = o.line();
                    }
                    d.events.accept(new DomainEvent.GuestSaid(d.id, m, nanoTime));
                }, () -> d.consoleClosed.complete(null));
                return c;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) throw new TimeoutException("no console socket at " + sock);
                Thread.sleep(1);
            }
        }
    }

    private static long remainingMillis(long deadline) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    }

    private static long readPidfile(Path dir) {
        try {
            return Long.parseLong(Files.readString(dir.resolve(QemuCommandLine.PIDFILE)).trim());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    // ---------------------------------------------------------------- events from QEMU

    private QmpListener qmpListener(QemuDomain d) {
        return new QmpListener() {
            @Override
            public void onEvent(QmpMessage.Event event) {
                long now = System.nanoTime();
                switch (event.name()) {
                    case "RESUME" -> d.state = DomainState.RUNNING;
                    case "STOP" -> {
                        d.state = DomainState.PAUSED;
                        if (d.stopsRequested.get() == 0) checkUnexpectedStop(d);
                    }
                    case "SHUTDOWN" -> onShutdown(d, event.data(), now);
                    case "GUEST_PANICKED" -> {
                        d.hint(ExitReason.CRASHED, "guest panicked: " + event.data(), now);
                        killQuietly(d); // the default panic action pauses; nobody wants a panicked VM
                    }
                    default -> { }
                }
            }

            @Override
            public void onDisconnect(Throwable cause) {
                if (cause != null) LOG.log(Level.DEBUG, "QMP of " + d.id + " ended: " + cause);
                onEndSign(d, cause == null ? "QMP closed" : "QMP failed: " + cause.getMessage());
            }
        };
    }

    private void onShutdown(QemuDomain d, JsonNode data, long now) {
        // Only recorded here: what it means depends on facts that may still be in flight (the PANIC
        // line on the console socket), so classify() decides once everything is in.
        d.shutdown(data.path("guest").asBoolean(false), data.path("reason").asText("unknown"), now);
    }

    /** QEMU stops a guest on its own for errors (KVM internal error, panic): such a VM is dead. */
    private void checkUnexpectedStop(QemuDomain d) {
        QmpClient q = d.qmp;
        if (q == null) return;
        // Asynchronous: we are on the QMP reader thread, which must stay free to read the answer.
        q.execute("query-status").thenAccept(s -> {
            String status = s.path("status").asText();
            switch (status) {
                case "internal-error", "guest-panicked", "io-error" -> {
                    d.hint(ExitReason.CRASHED, "QEMU stopped the guest: " + status + " "
                            + abbreviate(logTail(d.dir.resolve(QemuCommandLine.QEMU_LOG))), System.nanoTime());
                    killQuietly(d);
                }
                default -> { }
            }
        });
    }

    private void killQuietly(QemuDomain d) {
        workers.execute(() -> kill(d));
    }

    /** Any sign that the domain is ending: process exit, QMP EOF. The first one starts the end sequence. */
    private void onEndSign(QemuDomain d, String what) {
        d.noteEnd(System.nanoTime());
        if (closed && !d.quiet) return; // a closed driver has let go of its VMs; the next one adopts them
        // Still being created or adopted: that thread sees the death and cleans up itself (it wants
        // QEMU's log for its error message), or re-checks firstSignOfEnd right after setting ready.
        if (!d.ready && !d.quiet) return;
        if (!d.ending.compareAndSet(false, true)) return;
        try {
            workers.execute(() -> finish(d, what));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            d.gone.complete(null);
        }
    }

    /** The one end-of-life sequence, whoever started it: make sure it is dead, say why, clean up. */
    private void finish(QemuDomain d, String firstSign) {
        try {
            // Events and console lines QEMU wrote before it died (SHUTDOWN, PANIC) may still be in our
            // socket buffers: let them in before deciding why it ended.
            List<CompletableFuture<Void>> drains = new ArrayList<>();
            if (d.qmp != null) drains.add(d.qmpClosed);
            if (d.console != null) drains.add(d.consoleClosed);
            try {
                CompletableFuture.allOf(drains.toArray(CompletableFuture[]::new)).get(DRAIN.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                // A socket still open although the process died? Then nothing more will come on it.
            }
            ensureDead(d);
            QemuDomain.ExitHint exit = classify(d, firstSign);
            Console c = d.console;
            if (c != null) {
                exitedTails.put(d.id, c.tail());
                c.close();
            }
            if (d.qmp != null) d.qmp.close();
            try {
                d.store.remove(d.id);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "cannot remove " + d.dir, e);
            }
            domains.remove(d.id, d);
            if (!d.quiet && d.ready) d.events.accept(new DomainEvent.Exited(d.id, exit.reason(), exit.detail(), exit.nanoTime()));
        } catch (Exception e) {
            LOG.log(Level.ERROR, "end of " + d.id + " failed", e);
        } finally {
            d.gone.complete(null);
        }
    }

    /**
     * Why it ended, from the facts collected. Under QEMU the runtime leaves by triple fault both when
     * told to EXIT and when it panics (microvm without ACPI has no power-off), so a guest reset means
     * SHUTDOWN only after an EXIT and without a PANIC line.
     */
    private QemuDomain.ExitHint classify(QemuDomain d, String firstSign) {
        long t = d.firstSignOfEnd != 0 ? d.firstSignOfEnd : System.nanoTime();
        QemuDomain.ExitHint h = d.hint;
        if (h != null) return h;
        if (d.panicLine != null) return new QemuDomain.ExitHint(ExitReason.CRASHED, d.panicLine, t);
        String reason = d.shutdownReason;
        if (reason != null) {
            boolean guest = Boolean.TRUE.equals(d.shutdownByGuest);
            if (guest && reason.equals("guest-shutdown")) {
                return new QemuDomain.ExitHint(ExitReason.SHUTDOWN, "guest shut down"
                        + (d.exitRequested != null ? " after EXIT " + d.exitRequested : ""), t);
            }
            if (guest && reason.equals("guest-reset") && d.exitRequested != null) {
                return new QemuDomain.ExitHint(ExitReason.SHUTDOWN, "guest exited with code " + d.exitRequested, t);
            }
            if (guest) {
                return new QemuDomain.ExitHint(ExitReason.CRASHED, "guest " + reason
                        + " without EXIT (triple fault?)", t);
            }
            return new QemuDomain.ExitHint(ExitReason.KILLED, "QEMU shut down by the host: " + reason, t);
        }
        if (d.child != null && !d.child.isAlive()) {
            int code = d.child.exitValue();
            // The JDK reports death by signal N as 128 + N.
            if (code > 128) return new QemuDomain.ExitHint(ExitReason.KILLED, "QEMU killed by signal " + (code - 128), t);
            if (d.exitRequested != null) return new QemuDomain.ExitHint(ExitReason.SHUTDOWN, "QEMU exited with status "
                    + code + " after EXIT " + d.exitRequested, t);
            String log = logTail(d.dir.resolve(QemuCommandLine.QEMU_LOG));
            return new QemuDomain.ExitHint(ExitReason.KILLED, "QEMU exited with status " + code
                    + (log.isEmpty() ? "" : ": " + abbreviate(log)), t);
        }
        if (d.exitRequested != null) return new QemuDomain.ExitHint(ExitReason.SHUTDOWN, "gone after EXIT " + d.exitRequested, t);
        return new QemuDomain.ExitHint(ExitReason.KILLED, "QEMU process vanished (" + firstSign + ")", t);
    }

    /** Waits for the process to be gone; SIGKILLs it if it lingers. Bounded. */
    private void ensureDead(QemuDomain d) throws InterruptedException {
        if (d.child != null) {
            try {
                d.child.onExit().get(config.destroyTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                d.child.destroyForcibly();
                try {
                    d.child.onExit().get(5, TimeUnit.SECONDS);
                } catch (TimeoutException | ExecutionException e2) {
                    LOG.log(Level.ERROR, "QEMU " + d.pid + " of " + d.id + " survives SIGKILL");
                }
            }
            return;
        }
        if (d.pid == 0) return;
        // Not our child: no waitpid. Its QMP EOF already came, so this settles within milliseconds.
        if (waitNotLive(d.pid, config.destroyTimeout())) return;
        if (proc.isDomainProcess(d.pid, d.id, d.store.dir(d.id).getParent())) {
            ProcessHandle.of(d.pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        if (!waitNotLive(d.pid, Duration.ofSeconds(5))) LOG.log(Level.ERROR, "QEMU " + d.pid + " of " + d.id + " survives SIGKILL");
    }

    private boolean waitNotLive(long pid, Duration bound) throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        long sleep = 1;
        while (proc.isLive(pid)) {
            if (System.nanoTime() > deadline) return false;
            Thread.sleep(sleep);
            sleep = Math.min(sleep * 2, 20);
        }
        return true;
    }

    /** SIGKILL. For adopted processes only after checking the pid still is that domain's QEMU. */
    private void kill(QemuDomain d) {
        if (d.child != null) {
            d.child.destroyForcibly();
        } else if (d.pid != 0 && proc.isDomainProcess(d.pid, d.id, d.store.dir(d.id).getParent())) {
            ProcessHandle.of(d.pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        if (d.qmp == null) d.qmpClosed.complete(null);
    }

    /** Ends a domain on purpose and waits until it is gone and cleaned. */
    private void end(QemuDomain d, boolean quiet) {
        if (quiet) d.quiet = true;
        kill(d);
        onEndSign(d, "destroyed");
        try {
            d.gone.get(config.destroyTimeout().toMillis() + 6000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(Level.ERROR, "could not end " + d.id, e);
        }
    }

    // ---------------------------------------------------------------- request path

    @Override
    public CompletableFuture<Void> unpause(String id) {
        QemuDomain d = domains.get(id);
        if (d == null || !d.ready) return CompletableFuture.failedFuture(new DriverException.NoSuchDomain(id));
        return d.qmp.execute("cont").handle((r, e) -> {
            if (e != null) throw failure(d, "unpause", e);
            d.state = DomainState.RUNNING;
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> pause(String id) {
        QemuDomain d = domains.get(id);
        if (d == null || !d.ready) return CompletableFuture.failedFuture(new DriverException.NoSuchDomain(id));
        d.stopsRequested.incrementAndGet();
        return d.qmp.execute("stop").handle((r, e) -> {
            d.stopsRequested.decrementAndGet();
            if (e != null) throw failure(d, "pause", e);
            d.state = DomainState.PAUSED;
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> send(String id, GuestCommand command) {
        QemuDomain d = domains.get(id);
        if (d == null || !d.ready) return CompletableFuture.failedFuture(new DriverException.NoSuchDomain(id));
        if (command instanceof GuestCommand.Exit x) d.exitRequested = x.code();
        return d.console.send(GuestProtocol.encode(command)).handle((r, e) -> {
            if (e != null) throw failure(d, "send to", e);
            return null;
        });
    }

    private static CompletionException failure(QemuDomain d, String what, Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof QmpClosedException || cause instanceof IOException) {
            return new CompletionException(new DriverException("cannot " + what + " " + d.id + ": its QEMU is gone", cause));
        }
        if (cause instanceof QmpCommandException) {
            return new CompletionException(new DriverException("cannot " + what + " " + d.id + ": " + cause.getMessage(), cause));
        }
        return new CompletionException(cause);
    }

    // ---------------------------------------------------------------- destroy

    @Override
    public CompletableFuture<Void> destroy(String id) {
        if (closed) return CompletableFuture.failedFuture(new DriverException("driver is closed"));
        QemuDomain d = domains.get(id);
        if (d == null) {
            if (!QemuCommandLine.isValidId(id) || !Files.exists(store.dir(id))) return CompletableFuture.completedFuture(null);
            try {
                stateLock.acquire(); // repairing touches the directory: only its owner may
            } catch (DriverException e) {
                return CompletableFuture.failedFuture(e);
            }
            // Not ours in memory, but a directory is there (a record from before a restart that adopt
            // has not seen yet, or debris): bring it to a known state the adopt way, then destroy.
            return CompletableFuture.supplyAsync(() -> repairOne(id, proc.findDomainProcesses(config.domainsDir())), workers)
                    .thenCompose(adopted -> adopted == null ? CompletableFuture.completedFuture(null) : destroy(id));
        }
        synchronized (d) {
            if (d.destroying == null) {
                d.quiet = true;
                d.destroying = CompletableFuture.runAsync(() -> destroyNow(d), workers);
            }
            return d.destroying;
        }
    }

    private void destroyNow(QemuDomain d) {
        QmpClient q = d.qmp;
        if (q != null && q.isOpen()) {
            q.execute("quit"); // QEMU answers and exits within milliseconds; SIGKILL below if it does not
        } else {
            kill(d);
        }
        try {
            d.gone.get(config.destroyTimeout().toMillis(), TimeUnit.MILLISECONDS);
            return;
        } catch (TimeoutException e) {
            LOG.log(Level.WARNING, "QEMU of " + d.id + " ignored quit for " + config.destroyTimeout() + ": SIGKILL");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            // gone never fails
        }
        end(d, true);
        if (!d.gone.isDone()) throw new DriverException("could not destroy " + d.id);
    }

    // ---------------------------------------------------------------- adopt

    @Override
    public CompletableFuture<List<DomainInfo>> adopt() {
        if (closed) return CompletableFuture.failedFuture(new DriverException("driver is closed"));
        try {
            stateLock.acquire();
        } catch (DriverException e) {
            return CompletableFuture.failedFuture(e);
        }
        return CompletableFuture.supplyAsync(this::adoptNow, workers);
    }

    private List<DomainInfo> adoptNow() {
        List<QemuDomain> adopted = new ArrayList<>();
        List<ProcTable.QemuProcess> live = proc.findDomainProcesses(config.domainsDir());
        Set<String> handled = new HashSet<>();
        List<String> ids;
        try {
            ids = store.ids();
        } catch (IOException e) {
            throw new DriverException("cannot list " + config.domainsDir(), e);
        }
        for (String id : ids) {
            if (domains.containsKey(id)) continue; // ours already, in this process
            handled.add(id);
            if (!QemuCommandLine.isValidId(id)) {
                LOG.log(Level.WARNING, "ignoring {0} in {1}: not a domain id", id, config.domainsDir());
                continue;
            }
            QemuDomain d = repairOne(id, live);
            if (d != null) adopted.add(d);
        }
        // Processes pointing into our state dir with no directory at all: nobody owns them. Kill.
        for (ProcTable.QemuProcess p : live) {
            if (handled.contains(p.id()) || domains.containsKey(p.id())) continue;
            LOG.log(Level.WARNING, "killing QEMU {0} of {1}: no record", p.pid(), p.id());
            killStranger(p.pid(), p.id(), config.domainsDir());
        }
        cleanProbeDebris();
        List<DomainInfo> infos = new ArrayList<>();
        for (QemuDomain d : adopted) infos.add(d.info());
        LOG.log(Level.INFO, "adopted {0} domain(s)", infos.size());
        return infos;
    }

    /**
     * Brings one domain directory to a known state: adopted (returned), or removed with its process.
     * The rules, in order: no record or no pid = half-made, kill and remove; recorded pid not alive or
     * not that domain's QEMU (pid reuse) = gone, remove; otherwise reconnect, and if that fails, kill.
     */
    private QemuDomain repairOne(String id, List<ProcTable.QemuProcess> live) {
        var record = store.read(id);
        List<ProcTable.QemuProcess> procs = live.stream().filter(p -> p.id().equals(id)).toList();
        Long pid = record.map(DomainRecord::pid).orElse(null);
        if (pid == null || !proc.isDomainProcess(pid, id, config.domainsDir())) {
            for (ProcTable.QemuProcess p : procs) {
                LOG.log(Level.INFO, "killing half-made or stray QEMU {0} of {1}", p.pid(), id);
                killStranger(p.pid(), id, config.domainsDir());
            }
            removeQuietly(store, id);
            return null;
        }
        for (ProcTable.QemuProcess p : procs) {
            if (p.pid() != pid) killStranger(p.pid(), id, config.domainsDir()); // a second QEMU for one id
        }
        QemuDomain d = new QemuDomain(id, store, this::emit, null, record.get());
        AccelChoice ac = record.get().accel() == null ? null
                : new AccelChoice(record.get().accel(), record.get().cpu(), "recorded at create");
        d.accel = ac;
        if (domains.putIfAbsent(id, d) != null) return null;
        try {
            long deadline = System.nanoTime() + config.createTimeout().toNanos();
            d.qmp = connectQmp(d.dir.resolve(QemuCommandLine.QMP_SOCKET), null, deadline, qmpListener(d),
                    () -> d.qmpClosed.complete(null));
            String status = d.qmp.execute("query-status").get(remainingMillis(deadline), TimeUnit.MILLISECONDS)
                    .path("status").asText();
            d.state = switch (status) {
                case "running" -> DomainState.RUNNING;
                case "prelaunch", "paused", "suspended" -> DomainState.PAUSED;
                default -> throw new DriverException("domain " + id + " is " + status);
            };
            Console c = connectConsole(d, deadline);
            c.seed(lastBytes(d.dir.resolve(QemuCommandLine.CONSOLE_LOG), config.consoleTailBytes()));
            d.console = c;
            d.ready = true;
            if (d.firstSignOfEnd != 0) onEndSign(d, "ended while being adopted");
            LOG.log(Level.INFO, "adopted {0} (pid {1}, {2})", id, pid, d.state);
            return d;
        } catch (Exception e) {
            LOG.log(Level.WARNING, "cannot adopt " + id + ", destroying it: " + rootMessage(e));
            end(d, true);
            return null;
        }
    }

    private void killStranger(long pid, String id, Path domainsDir) {
        if (!proc.isDomainProcess(pid, id, domainsDir)) return;
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        try {
            if (!waitNotLive(pid, Duration.ofSeconds(5))) LOG.log(Level.ERROR, "QEMU " + pid + " survives SIGKILL");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Probe VMs of a previous (crashed) driver: kill them and remove their directories. */
    private void cleanProbeDebris() {
        Path probeDir = config.stateDir().resolve(PROBE_DIR);
        if (!Files.isDirectory(probeDir)) return;
        String mine = "-" + ProcessHandle.current().pid() + "-";
        for (ProcTable.QemuProcess p : proc.findDomainProcesses(probeDir)) {
            if (!p.id().contains(mine)) killStranger(p.pid(), p.id(), probeDir);
        }
        try (var s = Files.list(probeDir)) {
            for (Path p : s.toList()) {
                if (!p.getFileName().toString().contains(mine)) deleteTree(p);
            }
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "cannot clean " + probeDir + ": " + e);
        }
    }

    private static void removeQuietly(DomainStore s, String id) {
        try {
            s.remove(id);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot remove domain directory of " + id, e);
        }
    }

    // ---------------------------------------------------------------- queries and close

    @Override
    public List<DomainInfo> list() {
        List<DomainInfo> out = new ArrayList<>();
        for (QemuDomain d : domains.values()) {
            if (d.ready && !d.ending.get()) out.add(d.info());
        }
        return out;
    }

    @Override
    public String console(String id) {
        QemuDomain d = domains.get(id);
        if (d != null && d.console != null) return d.console.tail();
        String t = exitedTails.get(id);
        if (t != null) return t;
        throw new DriverException.NoSuchDomain(id);
    }

    /** Disconnects from every VM and leaves them running: the next driver's {@link #adopt()} finds them. */
    @Override
    public void close() {
        closed = true;
        for (QemuDomain d : domains.values()) detach(d);
        domains.clear();
        workers.shutdown();
        stateLock.close();
    }

    private static void detach(QemuDomain d) {
        if (d.qmp != null) d.qmp.close();
        if (d.console != null) d.console.close();
    }

    // ---------------------------------------------------------------- small helpers

    private static String logTail(Path log) {
        return new String(lastBytes(log, 2048), StandardCharsets.UTF_8).strip();
    }

    private static byte[] lastBytes(Path file, int n) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long len = f.length();
            int size = (int) Math.min(len, n);
            byte[] b = new byte[size];
            f.seek(len - size);
            f.readFully(b);
            return b;
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 500 ? s : "..." + s.substring(s.length() - 500);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while ((t instanceof ExecutionException || t instanceof CompletionException) && t.getCause() != null) t = t.getCause();
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    private static void deleteTree(Path dir) {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "cannot delete " + dir + ": " + e);
        }
    }
}
