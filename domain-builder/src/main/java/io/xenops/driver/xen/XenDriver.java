package io.xenops.driver.xen;

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
import io.xenops.hypercall.DomctlCodec;
import io.xenops.hypercall.HypercallException;
import io.xenops.hypercall.PrivcmdTransport;
import io.xenops.hypercall.XenDomainInfo;
import io.xenops.hypercall.XenHypercalls;
import io.xenops.xenstore.client.Watch;
import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.error.ConnectionClosedException;
import io.xenops.xenstore.wire.Permissions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * The Xen driver: pool members are paused PVH (or PV) domains built by {@code xl create -p}; the request
 * path is two things only, a domctl hypercall through {@code /dev/xen/privcmd} and XenStore requests
 * through the project's client. Exits are seen through the {@code @releaseDomain} watch.
 * See docs/xen-driver.md.
 */
public final class XenDriver implements Driver {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final int EXITED_TAILS = 32;
    private static final System.Logger LOG = System.getLogger(XenDriver.class.getName());
    private static final long DRAIN_RETRY_FIRST_MS = 50;
    private static final long DRAIN_RETRY_MAX_MS = 2_000;

    private final XenConfig config;
    private final XenHypercalls xen;
    private final XenStoreClient xs;
    private final Toolstack toolstack;
    private final ConsoleConnector consoles;
    private final boolean ownsClients;
    private final RecordStore store;
    /** Building, destroying, adopting: the slow work, on platform threads (xl is a process). */
    private final ExecutorService builder = Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon().name("xen-build-", 0).factory());
    private final Map<String, XenDomain> domains = new ConcurrentHashMap<>();
    private final Map<String, String> exitedTails = new LinkedHashMap<>();
    private final Object watchLock = new Object();
    private volatile DomainListener listener = e -> { };
    private Watch releaseWatch; // guarded by watchLock
    private volatile boolean closed;

    /**
     * @param xen       hypercalls (pause, unpause, getdomaininfo); owned by the caller
     * @param xs        a dom0 XenStore connection; owned by the caller
     * @param toolstack builds and destroys domains (xl)
     * @param consoles  opens xenconsoled's pty of a domain
     */
    public XenDriver(XenConfig config, XenHypercalls xen, XenStoreClient xs, Toolstack toolstack, ConsoleConnector consoles) {
        this(config, xen, xs, toolstack, consoles, false);
    }

    private XenDriver(XenConfig config, XenHypercalls xen, XenStoreClient xs, Toolstack toolstack,
                      ConsoleConnector consoles, boolean ownsClients) {
        this.config = config;
        this.xen = xen;
        this.xs = xs;
        this.toolstack = toolstack;
        this.consoles = consoles;
        this.ownsClients = ownsClients;
        this.store = new RecordStore(config.stateDir().resolve("domains"));
    }

    /**
     * Opens privcmd and xenstored as {@code config} says, with xl and xenconsoled's ptys; the driver
     * closes both connections in {@link #close()}. Fails fast (IOException) on a host without Xen.
     */
    public static XenDriver open(XenConfig config) throws IOException {
        PrivcmdTransport transport = PrivcmdTransport.open(config.privcmd(), config.hypercallDevice());
        XenHypercalls xen = new XenHypercalls(transport, new DomctlCodec(DomctlCodec.INTERFACE_VERSION_4_17));
        XenStoreClient xs;
        try {
            xen.version(); // proves privcmd answers before anything is built on it
            xs = XenStoreClient.connect(config.xenstoreSocket());
        } catch (IOException | RuntimeException e) {
            xen.close();
            throw e;
        }
        return new XenDriver(config, xen, xs, new XlToolstack(config.xl(), config.createTimeout()), new PtyConsoleConnector(), true);
    }

    @Override
    public String kind() {
        return "xen";
    }

    @Override
    public void setListener(DomainListener listener) {
        this.listener = listener;
    }

    // ---------------------------------------------------------------- create

    @Override
    public CompletableFuture<DomainInfo> create(DomainSpec spec) {
        if (!ID.matcher(spec.id()).matches()) {
            return CompletableFuture.failedFuture(new DriverException("domain id must match " + ID.pattern() + ": " + spec.id()));
        }
        if (domains.containsKey(spec.id())) {
            return CompletableFuture.failedFuture(new DriverException("domain " + spec.id() + " exists"));
        }
        return CompletableFuture.supplyAsync(() -> build(spec), builder);
    }

    private DomainInfo build(DomainSpec spec) {
        String name = "xenops-" + spec.id();
        // The handle is chosen here and recorded before xl runs: a domain whose build a dying daemon left
        // behind, after a xenstored restart took its name, is still found by it (repair).
        String uuid = java.util.UUID.randomUUID().toString();
        XenDomainRecord record = new XenDomainRecord(XenDomainRecord.VERSION, spec.id(), spec.image(), name,
                spec.kernel().toAbsolutePath().toString(), spec.memoryMiB(), spec.vcpus(), spec.cmdline(), null,
                System.currentTimeMillis(), null, uuid);
        try {
            store.create(record);
        } catch (FileAlreadyExistsException e) {
            throw new DriverException("domain " + spec.id() + " exists in " + store.dir(spec.id()));
        } catch (IOException e) {
            throw new DriverException("cannot record domain " + spec.id() + ": " + e, e);
        }
        try {
            ensureReleaseWatch();
            List<String> types = switch (config.type()) {
                case PVH -> List.of("pvh");
                case PV -> List.of("pv");
                case PVH_THEN_PV -> List.of("pvh", "pv");
            };
            List<String> failures = new ArrayList<>();
            Integer domid = null;
            String type = null;
            for (String t : types) {
                XlDomainConfig cfg = new XlDomainConfig(name, uuid, t, spec.kernel().toAbsolutePath(), spec.memoryMiB(), spec.vcpus(),
                        spec.cmdline());
                Path file = store.writeFile(spec.id(), RecordStore.XL_CONFIG, cfg.render());
                try {
                    domid = toolstack.createPaused(file, name);
                    type = t;
                    break;
                } catch (IOException e) {
                    failures.add(t + ": " + e.getMessage());
                    destroyQuietly(name); // xl may leave a half-built domain behind
                }
            }
            if (domid == null) throw new DriverException("xl could not build " + name + ": " + String.join("; ", failures));
            XenDomainInfo info = xen.domainInfo(domid)
                    .orElseThrow(() -> new DriverException("domain " + name + " is gone right after xl create"));
            if (!info.paused()) throw new DriverException("domain " + name + " (domid " + info.domid() + ") is not paused after xl create -p");
            XenDomainRecord built = record.built(type, domid, info.uuid());
            XenDomain d = attach(built, DomainState.PAUSED, true);
            try {
                store.write(built);
            } catch (IOException e) {
                detach(d);
                throw e;
            }
            domains.put(d.id, d);
            return info(d);
        } catch (Throwable t) {
            destroyQuietly(name);
            deleteConsoleLog(name);
            try {
                store.remove(spec.id());
            } catch (IOException e) {
                t.addSuppressed(e);
            }
            throw t instanceof DriverException de ? de : new DriverException("create " + spec.id() + ": " + t.getMessage(), t);
        }
    }

    /**
     * Connects a domain's channels: the {@code xenops} XenStore subtree (created when {@code fresh}),
     * a watch on its {@code out} directory, and the console pty. Blocking; builder threads only.
     */
    private XenDomain attach(XenDomainRecord record, DomainState state, boolean fresh) throws IOException {
        int domid = record.domid();
        String base = "/local/domain/" + domid + "/xenops";
        var b = xs.blocking(config.createTimeout());
        int nextIn = 0;
        int nextOut = 0;
        XenConfig.GuestChannel channel;
        if (fresh) {
            // The guest reads the channel at boot, and this runs before its first instruction.
            channel = config.channel();
            b.write(base + "/channel", channel.node());
            // The guest may read in/ and nothing else of ours; it owns out/ so it can create entries there.
            b.write(base + "/id", record.id());
            b.mkdir(base + "/in");
            b.mkdir(base + "/out");
            b.setPermissions(base, Permissions.parse("n0 r" + domid));
            b.setPermissions(base + "/id", Permissions.parse("n0 r" + domid));
            b.setPermissions(base + "/channel", Permissions.parse("n0 r" + domid));
            b.setPermissions(base + "/in", Permissions.parse("n0 r" + domid));
            b.setPermissions(base + "/out", Permissions.parse("n" + domid));
        } else {
            // The guest chose at boot from this node; the daemon's current setting does not change it.
            channel = XenConfig.GuestChannel.ofNode(b.readStringIfExists(base + "/channel"));
            // After a restart, what is already in out/ was seen (or is stale): continue after it.
            nextIn = nextIndex(b.exists(base + "/in") ? b.directory(base + "/in") : List.of());
            List<String> out = b.exists(base + "/out") ? b.directory(base + "/out") : List.of();
            nextOut = nextIndex(out);
            // Lines a crash left behind before their removal: read already (or stale), only quota now.
            for (String n : out) {
                if (!n.equals(Integer.toString(nextOut - 1))) b.rm(base + "/out/" + n);
            }
        }
        // An adopted domain's log is all its own; a fresh one may find a stale log of its name that xenconsoled appends to.
        long logStart = fresh ? consoleLogSize(record.name()) : 0;
        XenDomain d = new XenDomain(record, state, config.consoleTailBytes(),
                Executors.newSingleThreadExecutor(Thread.ofVirtual().name("xen-send-" + record.id()).factory()), channel, nextIn, nextOut,
                logStart);
        try {
            d.outWatch = xs.watch(d.outDir(), ev -> drainOut(d)).join();
            // xenconsoled publishes the pty once it has seen the domain; wait for it with a watch.
            String tty = xs.waitUntil(d.path + "/console/tty", v -> v.filter(s -> !s.isEmpty()).isPresent(), config.createTimeout())
                    .join().orElseThrow();
            d.tty = tty;
            d.console = consoles.open(Path.of(tty));
            Thread.ofPlatform().daemon().name("xen-console-" + record.id()).start(() -> readConsole(d));
            return d;
        } catch (CompletionException e) {
            detach(d);
            throw new IOException("attach to " + record.name() + ": " + e.getCause(), e.getCause());
        } catch (IOException | RuntimeException e) {
            detach(d);
            throw e;
        }
    }

    private static int nextIndex(List<String> names) {
        int max = -1;
        for (String n : names) {
            try {
                max = Math.max(max, Integer.parseInt(n));
            } catch (NumberFormatException e) {
                // not one of ours; ignore
            }
        }
        return max + 1;
    }

    // ---------------------------------------------------------------- request path

    @Override
    public CompletableFuture<Void> unpause(String id) {
        return setRunning(id, true);
    }

    @Override
    public CompletableFuture<Void> pause(String id) {
        return setRunning(id, false);
    }

    /** One domctl on the caller's thread: microseconds, no process, no file. */
    private CompletableFuture<Void> setRunning(String id, boolean run) {
        XenDomain d = domains.get(id);
        if (d == null || d.ending.get()) return CompletableFuture.failedFuture(new DriverException.NoSuchDomain(id));
        d.stateLock.lock();
        try {
            DomainState want = run ? DomainState.RUNNING : DomainState.PAUSED;
            // Xen counts toolstack pauses: a second pause would need a second unpause, so only flip states.
            if (d.state == want) return CompletableFuture.completedFuture(null);
            if (run) xen.unpauseDomain(d.domid); else xen.pauseDomain(d.domid);
            d.state = want;
            return CompletableFuture.completedFuture(null);
        } catch (HypercallException e) {
            if (e.errno() == HypercallException.ESRCH) return CompletableFuture.failedFuture(new DriverException.NoSuchDomain(id));
            return CompletableFuture.failedFuture(new DriverException((run ? "unpause " : "pause ") + id + ": " + e.getMessage(), e));
        } finally {
            d.stateLock.unlock();
        }
    }

    @Override
    public CompletableFuture<Void> send(String id, GuestCommand command) {
        XenDomain d = domains.get(id);
        if (d == null || d.ending.get()) return CompletableFuture.failedFuture(new DriverException.NoSuchDomain(id));
        if (command instanceof GuestCommand.Exit e) d.exitRequested = e.code();
        String line = GuestProtocol.encode(command);
        return switch (d.channel) {
            case XENSTORE -> xs.write(d.inDir() + "/" + d.nextIn.getAndIncrement(), line);
            case CONSOLE -> CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = d.console.out();
                    out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException e) {
                    throw new DriverException("send to " + id + ": " + e.getMessage(), e);
                }
            }, d.writer);
        };
    }

    // ---------------------------------------------------------------- guest messages

    /**
     * Reads every new {@code out/<n>} in order; the watch only says "look", the counter says where. A read
     * that fails or times out is tried again: the line stays at {@code out/<nextOut>}, and the guest, waiting
     * for its next command, writes nothing that would bring another event, so giving up here would lose it.
     */
    private void drainOut(XenDomain d) {
        d.outLock.lock();
        try {
            long backoffMs = DRAIN_RETRY_FIRST_MS;
            while (!d.ending.get() && !closed) {
                String path = d.outDir() + "/" + d.nextOut;
                Optional<String> line;
                try {
                    line = xs.blocking().readStringIfExists(path);
                } catch (ConnectionClosedException e) {
                    return; // every watch died with the connection; xenstoreClosed() tells the owner
                } catch (RuntimeException e) {
                    if (d.ending.get() || closed) return;
                    LOG.log(System.Logger.Level.WARNING, "reading " + path + " of " + d.id + " failed (" + e
                            + "); reading it again in " + backoffMs + " ms");
                    if (!backOff(backoffMs)) return;
                    backoffMs = Math.min(backoffMs * 2, DRAIN_RETRY_MAX_MS);
                    continue;
                }
                if (line.isEmpty()) return;
                backoffMs = DRAIN_RETRY_FIRST_MS;
                int read = d.nextOut++;
                emit(new DomainEvent.GuestSaid(d.id, GuestProtocol.decode(line.get()), System.nanoTime()));
                if (read > 0) removeConsumed(d, read - 1);
            }
        } finally {
            d.outLock.unlock();
        }
    }

    /**
     * Removes a line already read. The guest owns {@code out/}, and xenstored caps what a guest may own
     * (C xenstored refused {@code out/531}: the children's names fill its 2048-byte node record), so lines
     * left in place would end the channel after some hundreds of answers. The newest line stays: after a
     * restart it tells the daemon where the guest's counter is ({@link #nextIndex}). Not waited for: a
     * failed removal costs one node of quota, not an answer.
     */
    private void removeConsumed(XenDomain d, int index) {
        String path = d.outDir() + "/" + index;
        xs.rm(path).whenComplete((v, err) -> {
            if (err != null && !d.ending.get() && !closed) {
                LOG.log(System.Logger.Level.WARNING, "removing " + path + " of " + d.id + " failed: " + err);
            }
        });
    }

    /** False when interrupted (the driver is closing). */
    private static boolean backOff(long ms) {
        try {
            Thread.sleep(ms);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void readConsole(XenDomain d) {
        LineAssembler lines = new LineAssembler(line -> {
            GuestMessage m = GuestProtocol.decode(line);
            if (line.startsWith("PANIC") && d.panicLine == null) {
                d.panicLine = line;
                d.panicOrConsoleEnd.complete(line);
            }
            // A XenStore-channel guest answers in out/ only, so a protocol line on its console is not an
            // answer (an app's output that looks like one): it stays in the log, and no answer is seen twice.
            if (d.channel == XenConfig.GuestChannel.XENSTORE && !(m instanceof GuestMessage.Other)) return;
            emit(new DomainEvent.GuestSaid(d.id, m, System.nanoTime()));
        });
        byte[] buf = new byte[4096];
        try {
            InputStream in = d.console.in();
            int n;
            while ((n = in.read(buf)) > 0) {
                d.tail.append(buf, 0, n);
                lines.feed(buf, 0, n);
            }
        } catch (IOException e) {
            // EIO when xenconsoled drops the pty (domain gone) or our close(): the end is reported elsewhere.
        } finally {
            d.panicOrConsoleEnd.complete(null);
        }
    }

    // ---------------------------------------------------------------- exits

    private void ensureReleaseWatch() {
        synchronized (watchLock) {
            if (releaseWatch == null && !closed) {
                releaseWatch = xs.watch("@releaseDomain", ev -> scan(System.nanoTime())).join();
            }
        }
    }

    /** On every {@code @releaseDomain}: one getdomaininfo per owned domain says which one ended and how. */
    private void scan(long seenAt) {
        for (XenDomain d : domains.values()) {
            if (d.ending.get()) continue;
            Optional<XenDomainInfo> info;
            try {
                info = xen.domainInfo(d.domid);
            } catch (HypercallException e) {
                continue; // cannot tell now; the next event looks again
            }
            DomainEvent.ExitReason reason;
            String detail;
            XenDomainInfo.ShutdownReason crash = null;
            if (info.isEmpty() || !info.get().uuid().equals(d.record.uuid()) || info.get().dying()) {
                reason = DomainEvent.ExitReason.KILLED;
                detail = "domain " + d.domid + " destroyed outside xenopsd";
            } else if (info.get().shutdown()) {
                XenDomainInfo.ShutdownReason why = info.get().shutdownReason();
                if (d.panicLine != null) {
                    reason = DomainEvent.ExitReason.CRASHED;
                    detail = d.panicLine;
                } else if (why == XenDomainInfo.ShutdownReason.CRASH || why == XenDomainInfo.ShutdownReason.WATCHDOG
                        || why == XenDomainInfo.ShutdownReason.REBOOT) {
                    // REBOOT too: the runtime never asks for one, so it is Xen's answer to a triple fault.
                    reason = DomainEvent.ExitReason.CRASHED;
                    detail = null; // the PANIC line may still be on its way: settled on the build thread
                    crash = why;
                } else {
                    reason = DomainEvent.ExitReason.SHUTDOWN;
                    detail = d.exitRequested != null ? "guest exited with code " + d.exitRequested
                            : "Xen: domain shut down with reason " + why.name().toLowerCase();
                }
            } else {
                continue;
            }
            if (!d.ending.compareAndSet(false, true)) continue;
            DomainEvent.ExitReason r = reason;
            String known = detail;
            XenDomainInfo.ShutdownReason crashed = crash;
            builder.execute(() -> {
                // Before teardown, which closes the pty and deletes the log the line would be found in.
                String det = known != null ? known : crashDetail(d, crashed);
                teardown(d);
                emit(new DomainEvent.Exited(d.id, r, det, seenAt));
            });
        }
    }

    /**
     * The guest's PANIC line for a domain Xen says crashed, or Xen's reason when the guest printed none.
     * The runtime flushes its console ring before it shuts down, so xenconsoled has the line by then and
     * logs it before it writes it to the pty; the pty reader may still be behind. Waits (bounded) for the
     * reader to see the line or the console to end, without polling: the reader completes a future.
     */
    private String crashDetail(XenDomain d, XenDomainInfo.ShutdownReason why) {
        String line = d.panicLine;
        if (line == null) line = panicInConsoleLog(d).orElse(null);
        if (line == null) {
            try {
                line = d.panicOrConsoleEnd.get(config.crashDetailWait().toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // no line on the pty in time: the log may have it by now
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (line == null) line = panicInConsoleLog(d).orElse(null);
        if (line != null) return line;
        if (why == XenDomainInfo.ShutdownReason.REBOOT) {
            // A triple fault: the guest could not even report its exception. Where it was is all there is.
            String where = toolstack.cpuState(d.domid).map(c -> " at " + c.describe()).orElse("");
            String detail = "Xen: triple fault (domain shut down with reason reboot)" + where;
            LOG.log(System.Logger.Level.WARNING, d.id + " (domain " + d.domid + "): " + detail);
            return detail;
        }
        return "Xen: domain shut down with reason " + why.name().toLowerCase();
    }

    /** The last complete PANIC line of this domain's part of xenconsoled's log, if any. */
    private Optional<String> panicInConsoleLog(XenDomain d) {
        try (FileChannel ch = FileChannel.open(consoleLog(d.record.name()))) {
            long start = Math.max(d.consoleLogStart, ch.size() - config.consoleTailBytes());
            ByteBuffer buf = ByteBuffer.allocate((int) Math.max(0, ch.size() - start));
            while (buf.hasRemaining() && ch.read(buf, start + buf.position()) > 0) {
                // read on until the tail is in
            }
            String[] found = new String[1];
            // The same splitting as the pty's (bounded lines, CR dropped); xenconsoled --timestamp=guest puts
            // "[date] " before each line.
            new LineAssembler(l -> {
                int stamp = l.startsWith("[") ? l.indexOf("] ") : -1;
                String text = stamp > 0 ? l.substring(stamp + 2) : l;
                if (text.startsWith("PANIC")) found[0] = text;
            }).feed(buf.array(), 0, buf.position());
            return Optional.ofNullable(found[0]);
        } catch (IOException e) {
            return Optional.empty(); // no log (xenconsoled without --log=guest) or it went away
        }
    }

    /** xenconsoled's log of the domain named {@code name} ({@code --log=guest}). */
    private Path consoleLog(String name) {
        return config.consoleLogDir().resolve("guest-" + name + ".log");
    }

    private long consoleLogSize(String name) {
        try {
            return Files.size(consoleLog(name));
        } catch (IOException e) {
            return 0;
        }
    }

    // ---------------------------------------------------------------- destroy

    @Override
    public CompletableFuture<Void> destroy(String id) {
        XenDomain d = domains.get(id);
        if (d == null) {
            if (!Files.isDirectory(store.dir(id))) return CompletableFuture.completedFuture(null);
            return CompletableFuture.runAsync(() -> repair(id), builder);
        }
        if (d.ending.compareAndSet(false, true)) builder.execute(() -> teardown(d));
        return d.gone;
    }

    /** Destroys the domain, its XenStore nodes, its console log and its directory (record last). */
    private void teardown(XenDomain d) {
        try {
            detach(d);
            toolstack.destroy(d.record.name());
            // xl removes /local/domain/<domid>; our subtree goes with it. Removing it again is harmless.
            xs.rm(d.path + "/xenops").exceptionally(e -> null).join();
            deleteConsoleLog(d.record.name());
            store.remove(d.id);
            domains.remove(d.id, d);
            rememberTail(d);
            d.gone.complete(null);
        } catch (Throwable t) {
            d.gone.completeExceptionally(new DriverException("destroy " + d.id + ": " + t.getMessage(), t));
        }
    }

    /** A directory with no live domain object: whatever it names is destroyed. */
    private void repair(String id) {
        Optional<XenDomainRecord> rec = store.read(id);
        try {
            String name = rec.map(XenDomainRecord::name).orElse("xenops-" + id);
            // xl finds a name through XenStore; after a xenstored restart the name is gone but the domain is
            // not, and xl would call it "already gone". A domain with the recorded UUID is ours whatever
            // XenStore says, and the UUID is recorded before xl runs, so this also finds a domain whose
            // build was cut short before its domid was noted (seen: a xenstored restart during a refill).
            String uuid = rec.map(XenDomainRecord::uuid).orElse(null);
            if (uuid != null) {
                for (XenDomainInfo i : xen.domains()) {
                    if (i.uuid().equalsIgnoreCase(uuid)) toolstack.destroy(Integer.toString(i.domid()));
                }
            }
            toolstack.destroy(name);
            deleteConsoleLog(name);
            store.remove(id);
        } catch (IOException e) {
            throw new DriverException("destroy " + id + ": " + e.getMessage(), e);
        }
    }

    private static void detach(XenDomain d) {
        Watch w = d.outWatch;
        if (w != null) w.close();
        ConsoleConnector.Link c = d.console;
        if (c != null) c.close();
        d.writer.shutdownNow();
    }

    private void destroyQuietly(String name) {
        try {
            toolstack.destroy(name);
        } catch (IOException | RuntimeException e) {
            // best effort on a failure path; adopt finds whatever is left by its record
        }
    }

    private void deleteConsoleLog(String name) {
        try {
            Files.deleteIfExists(consoleLog(name));
        } catch (IOException e) {
            // xenconsoled's directory is not ours to fail on
        }
    }

    // ---------------------------------------------------------------- adopt

    @Override
    public CompletableFuture<List<DomainInfo>> adopt() {
        return CompletableFuture.supplyAsync(this::adoptAll, builder);
    }

    private List<DomainInfo> adoptAll() {
        ensureReleaseWatch();
        List<DomainInfo> adopted = new ArrayList<>();
        List<String> ids;
        try {
            ids = store.ids();
        } catch (IOException e) {
            throw new DriverException("cannot list " + config.stateDir() + ": " + e, e);
        }
        for (String id : ids) {
            if (domains.containsKey(id)) continue;
            try {
                Optional<XenDomainRecord> rec = store.read(id);
                if (rec.isEmpty() || rec.get().domid() == null) {
                    repair(id); // half-made: recorded, maybe built, never completed
                    continue;
                }
                XenDomainRecord r = rec.get();
                Optional<XenDomainInfo> info = xen.domainInfo(r.domid());
                boolean ours = info.isPresent() && info.get().uuid().equals(r.uuid())
                        && xs.blocking().readStringIfExists("/local/domain/" + r.domid() + "/name").equals(Optional.of(r.name()));
                if (ours && !info.get().dying() && !info.get().shutdown()) {
                    XenDomain d = attach(r, info.get().paused() ? DomainState.PAUSED : DomainState.RUNNING, false);
                    domains.put(id, d);
                    adopted.add(info(d));
                } else {
                    repair(id); // gone, ended while nobody watched, or the domid now belongs to another domain
                }
            } catch (IOException | RuntimeException e) {
                // One bad record must not stop the others; the next adopt or a destroy retries it.
            }
        }
        scan(System.nanoTime()); // an exit between the look above and the watch is not lost
        return adopted;
    }

    // ---------------------------------------------------------------- queries

    @Override
    public List<DomainInfo> list() {
        return domains.values().stream().filter(d -> !d.ending.get()).map(XenDriver::info).toList();
    }

    private static DomainInfo info(XenDomain d) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("domid", Integer.toString(d.domid));
        details.put("name", d.record.name());
        details.put("type", d.record.type());
        details.put("channel", d.channel.node());
        if (d.tty != null) details.put("console", d.tty);
        return new DomainInfo(d.id, d.record.image(), d.state, details);
    }

    @Override
    public String console(String id) {
        XenDomain d = domains.get(id);
        if (d != null) return d.tail.text();
        synchronized (exitedTails) {
            return exitedTails.getOrDefault(id, "");
        }
    }

    private void rememberTail(XenDomain d) {
        synchronized (exitedTails) {
            exitedTails.put(d.id, d.tail.text());
            while (exitedTails.size() > EXITED_TAILS) exitedTails.remove(exitedTails.keySet().iterator().next());
        }
    }

    private void emit(DomainEvent event) {
        if (closed) return;
        try {
            listener.onEvent(event);
        } catch (RuntimeException e) {
            // A listener's bug must not kill the console reader or the watch thread.
        }
    }

    /**
     * Completes when the XenStore connection ends: normally after {@link #close()}, exceptionally when
     * xenstored went away under the driver. Every watch (exits, guest messages, consoles) died with it, so
     * the owner must not carry on as if nothing happened; see docs/xen-driver.md, "Daemon in dom0".
     */
    public CompletableFuture<Void> xenstoreClosed() {
        return xs.connection().closedFuture();
    }

    @Override
    public void close() {
        closed = true;
        synchronized (watchLock) {
            if (releaseWatch != null) releaseWatch.close();
        }
        for (XenDomain d : domains.values()) detach(d);
        builder.shutdownNow();
        if (ownsClients) {
            xs.close();
            xen.close();
        }
    }
}
