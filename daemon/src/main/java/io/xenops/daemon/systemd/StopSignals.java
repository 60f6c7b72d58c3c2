package io.xenops.daemon.systemd;

import java.util.List;
import java.util.function.IntConsumer;
import sun.misc.Signal;

/**
 * Turns SIGTERM (how systemd stops a service) and SIGINT (Ctrl-C) into an orderly exit with status 0.
 *
 * <p>Left alone, the JVM runs its shutdown hooks on SIGTERM and then exits with 143 (128 + 15), which a
 * supervisor reads as "killed". Stopping is the normal end of this daemon, so the handler tells systemd
 * that it is stopping and calls {@code System.exit(0)}; that still runs every shutdown hook, so the
 * daemon's own {@code close()} stays a shutdown hook and also covers other ways of exiting.
 *
 * <p>{@code sun.misc.Signal} (module jdk.unsupported) is the only JDK API that can replace the default
 * handler; the jlink runtime keeps that module because Netty needs it too.
 */
public final class StopSignals {
    private static final System.Logger LOG = System.getLogger("xenops.systemd");
    private static final List<String> SIGNALS = List.of("TERM", "INT");

    private final SdNotify sdNotify;
    private final IntConsumer exit;

    /** @param exit how to end the process; {@code System::exit} in production, a recorder in tests */
    public StopSignals(SdNotify sdNotify, IntConsumer exit) {
        this.sdNotify = sdNotify;
        this.exit = exit;
    }

    /** Installs the handlers. Call once the daemon's shutdown hook is registered. */
    public void install() {
        for (String name : SIGNALS) {
            Signal.handle(new Signal(name), s -> onSignal(s.getName()));
        }
    }

    /**
     * What a signal does. Runs on the JVM's signal-dispatch thread, which may block here: exit waits for
     * the shutdown hooks, as the default handler does.
     */
    void onSignal(String name) {
        LOG.log(System.Logger.Level.INFO, "SIG{0}: stopping", name);
        sdNotify.stopping("stopping on SIG" + name);
        exit.accept(0);
    }
}
