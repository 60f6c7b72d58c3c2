package io.xenops.driver.libvirt;

import io.xenops.driver.DriverException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import org.libvirt.Connect;
import org.libvirt.Library;
import org.libvirt.LibvirtException;
import org.libvirt.jna.Libvirt;

/**
 * The thread that runs libvirt's event loop, through which domain lifecycle events (and the remote
 * driver's keepalives) arrive. Libvirt's event implementation is one per process
 * ({@code virEventRegisterDefaultImpl}); this object is the handle on it. It must exist before a
 * connection is opened, or that connection never delivers events.
 *
 * <p>More than one may run in a process (GLib lets one thread iterate the context at a time), but a
 * daemon needs exactly one: create it once and hand it to the drivers that need it.
 */
public final class LibvirtEventLoop implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LibvirtEventLoop.class.getName());

    private final Thread thread;
    private volatile boolean running = true;
    // Strong references: JNA callbacks that native code still holds must never be garbage collected.
    private final Libvirt.VirEventTimeoutCallback wake = (timer, opaque) -> { };
    private final Libvirt.VirErrorCallback quietErrors = (userData, error) ->
            LOG.log(Level.TRACE, () -> "libvirt: " + (error == null ? "?" : error.message));
    private final int wakeTimer;

    /** Registers libvirt's event implementation (once per process) and starts the loop thread. */
    public LibvirtEventLoop() {
        try {
            Library.initEventLoop();
            // libvirt prints every error to stderr unless told otherwise; callers get them as exceptions.
            Connect.setErrorCallback(quietErrors);
        } catch (LibvirtException | LinkageError e) {
            throw new DriverException("cannot initialise libvirt (is libvirt0 installed?): " + e.getMessage(), e);
        }
        // A disabled timer that close() arms: the only way to wake a thread blocked in the event loop.
        wakeTimer = Libvirt.INSTANCE.virEventAddTimeout(-1, wake, null, null);
        if (wakeTimer < 0) throw new DriverException("libvirt refused an event-loop timer");
        thread = Thread.ofPlatform().daemon().name("libvirt-event-loop").start(this::run);
    }

    private void run() {
        while (running) {
            try {
                Library.processEvent();
            } catch (LibvirtException e) {
                LOG.log(Level.WARNING, "libvirt event loop: " + e.getMessage());
                sleepQuietly(Duration.ofMillis(50)); // never spin on a persistent error
            } catch (RuntimeException e) {
                // A listener threw through JNA; the loop itself must survive it.
                LOG.log(Level.WARNING, "libvirt event callback failed", e);
            }
        }
    }

    /** True while the loop thread runs. */
    public boolean isRunning() {
        return thread.isAlive();
    }

    @Override
    public void close() {
        if (!running) return;
        running = false;
        // Timeout 0 fires on every iteration until removed, so the wake reaches this loop even if another
        // loop in the process happens to hold the context when it first fires.
        Libvirt.INSTANCE.virEventUpdateTimeout(wakeTimer, 0);
        try {
            thread.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Libvirt.INSTANCE.virEventRemoveTimeout(wakeTimer);
        if (thread.isAlive()) LOG.log(Level.WARNING, "libvirt event loop did not stop within 5 s");
    }

    private static void sleepQuietly(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
