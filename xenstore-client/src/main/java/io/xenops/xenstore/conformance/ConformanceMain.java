package io.xenops.xenstore.conformance;

import io.xenops.xenstore.server.XenStoreServer;
import io.xenops.xenstore.transport.Transports;
import io.xenops.xenstore.transport.XenbusDeviceTransport;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Runs the conformance suite from a plain classpath, e.g. inside dom0:
 * <pre>
 * java -cp xenstore-client.jar io.xenops.xenstore.conformance.ConformanceMain --socket /run/xenstored/socket
 * java -cp xenstore-client.jar io.xenops.xenstore.conformance.ConformanceMain --xenbus /dev/xen/xenbus
 * java -cp xenstore-client.jar io.xenops.xenstore.conformance.ConformanceMain --in-process
 * </pre>
 * Options: {@code --server oxenstored|cxenstored|xenops} (which daemon listens there: the checks
 * where the real daemons differ assert that daemon's behaviour; default cxenstored, the reference,
 * whose semantics our own server shares), {@code --only REGEX}, {@code --prefix /path}, {@code --patience-ms N},
 * {@code --quiet-ms N}, {@code --capabilities FAKE_DOMAINS,QUOTA_AND_FEATURE_REQUESTS}.
 * Prints one line per check and ends with "N passed, N failed, N skipped"; exits 1 on any failure,
 * 2 on bad usage.
 */
public final class ConformanceMain {

    private ConformanceMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Path path = null;
        boolean inProcess = false;
        String prefix = "/xenops-conformance";
        Pattern only = Pattern.compile("");
        Duration patience = Duration.ofSeconds(10);
        Duration quiet = Duration.ofMillis(300);
        Set<Capability> caps = EnumSet.noneOf(Capability.class);
        ServerProfile profile = ServerProfile.CXENSTORED;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--socket", "--xenbus", "--path" -> path = Path.of(args[++i]);
                    case "--in-process" -> inProcess = true;
                    case "--server" -> profile = ServerProfile.parse(args[++i]);
                    case "--prefix" -> prefix = args[++i];
                    case "--only" -> only = Pattern.compile(args[++i]);
                    case "--patience-ms" -> patience = Duration.ofMillis(Long.parseLong(args[++i]));
                    case "--quiet-ms" -> quiet = Duration.ofMillis(Long.parseLong(args[++i]));
                    case "--capabilities" -> {
                        for (String c : args[++i].split(",")) {
                            if (!c.isBlank()) {
                                caps.add(Capability.valueOf(c.strip().toUpperCase(Locale.ROOT)));
                            }
                        }
                    }
                    case "-h", "--help" -> {
                        out.println("usage: ConformanceMain [--socket PATH | --xenbus PATH | --in-process]"
                                + " [--server oxenstored|cxenstored|xenops] [--only REGEX] [--prefix PATH] [--patience-ms N] [--quiet-ms N]"
                                + " [--capabilities " + List.of(Capability.values()) + "]");
                        return 0;
                    }
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]);
                }
            }
        } catch (RuntimeException e) {
            err.println("conformance: " + e.getMessage());
            return 2;
        }
        ConformanceSuite suite = new ConformanceSuite(prefix);
        if (inProcess) {
            try (XenStoreServer server = new XenStoreServer()) {
                return failures(suite.run(new InProcessTarget(server), only, out));
            }
        }
        if (path == null) {
            path = defaultPath();
            if (path == null) {
                err.println("conformance: no XenStore socket or xenbus device found; give --socket PATH");
                return 2;
            }
        }
        return failures(suite.run(new SocketTarget(path, caps, patience, quiet, profile), only, out));
    }

    private static Path defaultPath() {
        for (Path p : Transports.DEFAULT_SOCKETS) {
            if (Files.exists(p)) {
                return p;
            }
        }
        return Files.exists(XenbusDeviceTransport.DEFAULT_DEVICE) ? XenbusDeviceTransport.DEFAULT_DEVICE : null;
    }

    private static int failures(List<CheckResult> results) {
        return results.stream().anyMatch(r -> r.status() == CheckResult.Status.FAILED) ? 1 : 0;
    }
}
