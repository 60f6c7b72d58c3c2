package io.xenops.daemon;

import io.xenops.daemon.config.ConfigException;
import io.xenops.daemon.config.ConfigLoader;
import io.xenops.daemon.config.DaemonConfig;
import io.xenops.daemon.log.AsyncHandler;
import io.xenops.daemon.log.JsonFormatter;
import io.xenops.daemon.log.LineFormatter;
import io.xenops.daemon.systemd.SdNotify;
import io.xenops.daemon.systemd.StopSignals;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/** xenopsd's entry point: read the configuration, start, and stop cleanly on SIGTERM. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        configureLogging();
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.print(ConfigLoader.usage());
            return;
        }
        DaemonConfig config;
        try {
            config = new ConfigLoader(System.getenv()).load(args);
        } catch (ConfigException e) {
            System.err.println("xenopsd: " + e.getMessage());
            System.exit(2);
            return;
        }
        Daemon daemon = new Daemon(config);
        try {
            daemon.start().toCompletionStage().toCompletableFuture().join();
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            System.err.println("xenopsd: cannot start: " + cause.getMessage());
            daemon.close();
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(daemon::close));
        // SIGTERM is a normal stop: exit 0 (after the hook above), not 143.
        new StopSignals(new SdNotify(System.getenv()), System::exit).install();
    }

    private static void configureLogging() {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        // Structured logs for shippers (XENOPSD_LOG_FORMAT=json), one readable line per record otherwise.
        boolean json = "json".equalsIgnoreCase(System.getenv("XENOPSD_LOG_FORMAT"));
        AsyncHandler h = new AsyncHandler(System.err, json ? new JsonFormatter() : new LineFormatter());
        root.addHandler(h);
        String level = System.getenv().getOrDefault("XENOPSD_LOG_LEVEL", "INFO");
        try {
            root.setLevel(Level.parse(level));
        } catch (IllegalArgumentException e) {
            root.setLevel(Level.INFO);
        }
        // Netty and Vert.x are chatty at INFO about things an operator need not see.
        Logger.getLogger("io.netty").setLevel(Level.WARNING);
    }
}
