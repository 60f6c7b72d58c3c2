package io.xenops.driver.qemu;

import io.xenops.driver.DomainEvent;
import io.xenops.driver.DomainEvent.ExitReason;
import io.xenops.driver.DomainInfo;
import io.xenops.driver.DomainState;
import io.xenops.qmp.QmpClient;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One VM as the driver holds it: its process, its QMP and console connections, and what has been
 * learned about how it ends. Mutable fields are written by the create/adopt thread before {@link #ready}
 * is set and by connection threads after; all are volatile or atomic.
 */
final class QemuDomain {
    /** What the driver knows about why a domain ended, first fact wins. */
    record ExitHint(ExitReason reason, String detail, long nanoTime) {}

    final String id;
    final DomainStore store;
    final Path dir;
    /** Where this domain's events go: the daemon's listener, or the accel probe's own sink. */
    final Consumer<DomainEvent> events;
    /** Our child when we started it; null when adopted (then QMP EOF is the exit signal). */
    final Process child;

    volatile DomainRecord record;
    volatile long pid;
    volatile QmpClient qmp;
    volatile Console console;
    volatile AccelChoice accel;
    volatile DomainState state = DomainState.PAUSED;
    /** Set once create or adopt finished: only then is the domain listed and addressable. */
    volatile boolean ready;
    /** Set by destroy, by a failed create, and by driver close: the end is expected, emit no event. */
    volatile boolean quiet;
    /** The host sent EXIT: a guest reset that follows is the guest obeying, not crashing. */
    volatile Integer exitRequested;
    /** A fact that settles the reason by itself (QEMU stopped the guest on an error, a panic event). */
    volatile ExitHint hint;
    /** QMP SHUTDOWN: who asked ({@code guest}) and QEMU's reason, e.g. guest-reset, host-qmp-quit. */
    volatile Boolean shutdownByGuest;
    volatile String shutdownReason;
    /** The runtime prints {@code PANIC <message>} before it resets the machine on a fatal error. */
    volatile String panicLine;
    /** STOPs we asked for; any other STOP is QEMU stopping the guest on an error. */
    final AtomicInteger stopsRequested = new AtomicInteger();
    /** Exactly one thread runs the end-of-life sequence. */
    final AtomicBoolean ending = new AtomicBoolean();
    /** Completes when QEMU closed the QMP connection (or QMP was never connected and the process died). */
    final CompletableFuture<Void> qmpClosed = new CompletableFuture<>();
    /** Completes when the console socket reached EOF: every line the guest printed has been seen. */
    final CompletableFuture<Void> consoleClosed = new CompletableFuture<>();
    /** Completes when the process is gone and the directory removed. */
    final CompletableFuture<Void> gone = new CompletableFuture<>();
    /** Earliest nanoTime at which any sign of the end was seen. */
    volatile long firstSignOfEnd;
    volatile CompletableFuture<Void> destroying;

    QemuDomain(String id, DomainStore store, Consumer<DomainEvent> events, Process child, DomainRecord record) {
        this.id = id;
        this.store = store;
        this.dir = store.dir(id);
        this.events = events;
        this.child = child;
        this.record = record;
        this.pid = child != null ? child.pid() : (record.pid() == null ? 0 : record.pid());
    }

    synchronized void shutdown(boolean guest, String reason, long nanoTime) {
        if (shutdownReason == null) {
            shutdownByGuest = guest;
            shutdownReason = reason;
        }
        noteEnd(nanoTime);
    }

    /** Keeps the first explanation: later ones (the EOF after a SHUTDOWN) add nothing. */
    synchronized void hint(ExitReason reason, String detail, long nanoTime) {
        if (hint == null) hint = new ExitHint(reason, detail, nanoTime);
        noteEnd(nanoTime);
    }

    synchronized void noteEnd(long nanoTime) {
        if (firstSignOfEnd == 0) firstSignOfEnd = nanoTime;
    }

    DomainInfo info() {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("pid", Long.toString(pid));
        details.put("dir", dir.toString());
        details.put("qmp", dir.resolve(QemuCommandLine.QMP_SOCKET).toString());
        details.put("console", dir.resolve(QemuCommandLine.CONSOLE_SOCKET).toString());
        if (accel != null) {
            details.put("accel", accel.accel());
            details.put("cpu", accel.cpu());
        }
        details.put("adopted", Boolean.toString(child == null));
        return new DomainInfo(id, record.image(), state, details);
    }
}
