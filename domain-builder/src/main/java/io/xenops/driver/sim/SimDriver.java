package io.xenops.driver.sim;

import io.xenops.driver.DomainEvent;
import io.xenops.driver.DomainInfo;
import io.xenops.driver.DomainListener;
import io.xenops.driver.DomainSpec;
import io.xenops.driver.DomainState;
import io.xenops.driver.Driver;
import io.xenops.driver.DriverException;
import io.xenops.guest.GuestCommand;
import io.xenops.guest.GuestMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An in-process hypervisor for fast component tests of the daemon. It keeps the guest protocol's
 * promises (READY on first unpause, PONG, RESULT) and lets tests inject faults. It is never the only
 * proof that something works: the QEMU and Xen drivers are tested against real hypervisors.
 */
public final class SimDriver implements Driver {
    /** Knobs a test turns to provoke the daemon's failure paths. */
    public record Faults(boolean failCreate, boolean neverReady, Duration bootDelay, int capacity) {
        public static Faults none() { return new Faults(false, false, Duration.ofMillis(1), Integer.MAX_VALUE); }

        public Faults withFailCreate(boolean v) { return new Faults(v, neverReady, bootDelay, capacity); }

        public Faults withNeverReady(boolean v) { return new Faults(failCreate, v, bootDelay, capacity); }

        public Faults withBootDelay(Duration d) { return new Faults(failCreate, neverReady, d, capacity); }

        public Faults withCapacity(int c) { return new Faults(failCreate, neverReady, bootDelay, c); }
    }

    private static final class Dom {
        final DomainSpec spec;
        volatile DomainState state = DomainState.PAUSED;
        volatile boolean booted;
        final StringBuilder console = new StringBuilder();

        Dom(DomainSpec spec) { this.spec = spec; }
    }

    private final Map<String, Dom> domains = new ConcurrentHashMap<>();
    private final ScheduledExecutorService clock;
    private volatile DomainListener listener = e -> { };
    private volatile Faults faults;
    private volatile int created;

    public SimDriver(Faults faults) {
        this.faults = faults;
        this.clock = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sim-driver");
            t.setDaemon(true);
            return t;
        });
    }

    public void setFaults(Faults faults) { this.faults = faults; }

    /** How many domains this driver has ever created. */
    public int createdCount() { return created; }

    private final java.util.concurrent.atomic.AtomicInteger dyingUnpauses = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * The next {@code n} unpauses of booted (pooled) domains succeed, and each such domain then crashes at
     * once, before it can answer anything: what a pooled guest that triple-faults as it resumes looks like.
     */
    public void dieOnNextUnpauses(int n) { dyingUnpauses.set(n); }

    /** Makes a domain vanish as if its hypervisor process died. */
    public void kill(String id) {
        Dom d = domains.remove(id);
        if (d != null) emit(new DomainEvent.Exited(id, DomainEvent.ExitReason.KILLED, "killed by test", System.nanoTime()));
    }

    @Override
    public String kind() { return "sim"; }

    @Override
    public void setListener(DomainListener listener) { this.listener = listener; }

    @Override
    public CompletableFuture<List<DomainInfo>> adopt() {
        return CompletableFuture.completedFuture(list());
    }

    @Override
    public CompletableFuture<DomainInfo> create(DomainSpec spec) {
        Faults f = faults;
        if (f.failCreate()) return CompletableFuture.failedFuture(new DriverException("simulated create failure"));
        if (domains.size() >= f.capacity()) {
            return CompletableFuture.failedFuture(new DriverException.OutOfCapacity("simulated host full", null));
        }
        Dom d = new Dom(spec);
        domains.put(spec.id(), d);
        created++;
        return CompletableFuture.supplyAsync(() -> info(d), clock);
    }

    @Override
    public CompletableFuture<Void> unpause(String id) {
        Dom d = require(id);
        d.state = DomainState.RUNNING;
        if (d.booted && dyingUnpauses.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            domains.remove(id);
            emit(new DomainEvent.Exited(id, DomainEvent.ExitReason.CRASHED, "simulated triple fault on resume", System.nanoTime()));
            return CompletableFuture.completedFuture(null);
        }
        if (!d.booted) {
            d.booted = true;
            Faults f = faults;
            if (!f.neverReady()) {
                clock.schedule(() -> say(d, "READY " + d.spec.image() + " " + id), f.bootDelay().toNanos(), TimeUnit.NANOSECONDS);
            }
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Void> pause(String id) {
        require(id).state = DomainState.PAUSED;
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Void> send(String id, GuestCommand command) {
        Dom d = require(id);
        if (d.state != DomainState.RUNNING) return CompletableFuture.completedFuture(null); // a paused guest hears nothing yet
        clock.execute(() -> {
            switch (command) {
                case GuestCommand.Ping p -> say(d, "PONG " + p.token());
                case GuestCommand.Args a -> say(d, "RESULT " + a.token() + " sim:" + a.payload());
                case GuestCommand.Exit e -> {
                    domains.remove(id);
                    emit(new DomainEvent.Exited(id, e.code() == 0 ? DomainEvent.ExitReason.SHUTDOWN
                            : DomainEvent.ExitReason.CRASHED, "exit " + e.code(), System.nanoTime()));
                }
            }
        });
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Void> destroy(String id) {
        domains.remove(id);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public List<DomainInfo> list() {
        List<DomainInfo> out = new ArrayList<>();
        for (Dom d : domains.values()) out.add(info(d));
        return out;
    }

    @Override
    public String console(String id) {
        Dom d = require(id);
        synchronized (d.console) {
            return d.console.toString();
        }
    }

    @Override
    public void close() {
        clock.shutdownNow();
    }

    private void say(Dom d, String line) {
        if (!domains.containsKey(d.spec.id())) return;
        synchronized (d.console) {
            d.console.append(line).append('\n');
        }
        GuestMessage m = io.xenops.guest.GuestProtocol.decode(line);
        emit(new DomainEvent.GuestSaid(d.spec.id(), m, System.nanoTime()));
    }

    private void emit(DomainEvent e) { listener.onEvent(e); }

    private Dom require(String id) {
        Dom d = domains.get(id);
        if (d == null) throw new DriverException.NoSuchDomain(id);
        return d;
    }

    private static DomainInfo info(Dom d) {
        return new DomainInfo(d.spec.id(), d.spec.image(), d.state, Map.of("kind", "sim"));
    }
}
