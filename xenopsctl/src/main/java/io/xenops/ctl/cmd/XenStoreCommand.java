package io.xenops.ctl.cmd;

import io.xenops.ctl.ExitCodes;
import io.xenops.ctl.XenopsCtl;
import io.xenops.ctl.render.Table;
import io.xenops.ctl.render.Text;
import io.xenops.xenstore.client.BlockingXenStore;
import io.xenops.xenstore.client.Watch;
import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.error.ConnectionClosedException;
import io.xenops.xenstore.error.NoSuchNodeException;
import io.xenops.xenstore.error.PermissionDeniedException;
import io.xenops.xenstore.error.RequestTimeoutException;
import io.xenops.xenstore.error.XenStoreException;
import io.xenops.xenstore.transport.Transports;
import io.xenops.xenstore.wire.Permissions;
import io.xenops.xenstore.wire.WatchEvent;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * XenStore for operators on a Xen host. Unlike every other command this does not go through
 * xenopsd: it speaks the XenStore protocol to xenstored directly (xenstore-client), so it works
 * while the daemon is down, which is when it is most needed. Output is text only.
 */
@Command(name = "xenstore", description = {"Read and change XenStore directly (on a Xen host; not through xenopsd).",
        "Connects like libxenstore: $XENSTORED_PATH, /run/xenstored/socket, /var/run/xenstored/socket, "
                + "/dev/xen/xenbus."},
        subcommands = {XenStoreCommand.Read.class, XenStoreCommand.Write.class, XenStoreCommand.Ls.class,
                XenStoreCommand.Rm.class, XenStoreCommand.WatchPath.class, XenStoreCommand.Perms.class})
public final class XenStoreCommand extends GroupCommand {
    /** Default socket named in the "cannot reach" message when nothing overrides it. */
    private static final String DEFAULT_SOCKET = "/run/xenstored/socket";

    @ParentCommand
    XenopsCtl root;

    @Option(names = "--socket", paramLabel = "PATH", scope = ScopeType.INHERIT,
            description = "xenstored's unix socket (or the xenbus device). Default: as libxenstore finds it.")
    Path socket;

    /** One operation on one path with an open connection. */
    interface Operation {
        void run(XenStoreClient client, BlockingXenStore xs, PrintWriter out) throws InterruptedException;
    }

    /** A subcommand: one operation on one path, over a connection made as the group's --socket says. */
    abstract static class OnPath implements Callable<Integer> {
        @ParentCommand
        XenStoreCommand xenstore;

        @Spec
        CommandSpec spec;

        /**
         * Connects, runs the operation and turns XenStore's failures into one stderr line: 3 when
         * xenstored cannot be reached (or goes away), 1 when it refused the request.
         */
        final int run(String path, Operation op) {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Path socket = xenstore.socket;
            Map<String, String> env = xenstore.root.env();
            String where = socket != null ? socket.toString() : env.getOrDefault("XENSTORED_PATH", DEFAULT_SOCKET);
            XenStoreClient client;
            try {
                client = socket != null ? XenStoreClient.connect(socket) : XenStoreClient.open(Transports.openDefault(env));
            } catch (IOException | UnsupportedOperationException e) {
                err.println("xenopsctl: cannot reach xenstored at " + where + " (" + reason(e) + ")");
                return ExitCodes.UNREACHABLE;
            }
            try (client) {
                op.run(client, client.blocking(), out);
                return ExitCodes.OK;
            } catch (ConnectionClosedException | RequestTimeoutException e) {
                err.println("xenopsctl: cannot reach xenstored at " + where + " (" + reason(e) + ")");
                return ExitCodes.UNREACHABLE;
            } catch (XenStoreException | IllegalArgumentException e) {
                err.println("xenopsctl: " + path + ": " + describe(e));
                return ExitCodes.API_ERROR;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return ExitCodes.API_ERROR;
            } finally {
                out.flush();
                err.flush();
            }
        }
    }

    private static String describe(RuntimeException e) {
        return switch (e) {
            case NoSuchNodeException n -> "no such node";
            case PermissionDeniedException p -> "permission denied";
            default -> e.getMessage();
        };
    }

    private static String reason(Exception e) {
        return e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
    }

    static String child(String parent, String name) {
        return parent.endsWith("/") ? parent + name : parent + "/" + name;
    }

    @Command(name = "read", description = "Print the value of PATH (control characters escaped).")
    public static final class Read extends OnPath {
        @Parameters(paramLabel = "PATH", description = "e.g. /local/domain/0/name")
        String path;

        @Override
        public Integer call() {
            return run(path, (client, xs, out) -> out.println(Text.cell(xs.readString(path))));
        }
    }

    @Command(name = "write", description = "Set PATH to VALUE, creating missing parents.")
    public static final class Write extends OnPath {
        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Parameters(index = "1", paramLabel = "VALUE")
        String value;

        @Override
        public Integer call() {
            return run(path, (client, xs, out) -> xs.write(path, value));
        }
    }

    @Command(name = "ls", description = "List the children of PATH; with -l also their values and permissions.")
    public static final class Ls extends OnPath {
        @Option(names = "-l", description = "Show each child's value and permissions.")
        boolean details;

        @Parameters(paramLabel = "PATH")
        String path;

        @Override
        public Integer call() {
            return run(path, (client, xs, out) -> {
                List<String> children = xs.directory(path);
                if (!details) {
                    children.forEach(c -> out.println(Text.cell(c)));
                    return;
                }
                Table t = new Table("NAME", "VALUE", "PERMS");
                for (String c : children) {
                    String full = child(path, c);
                    // A child removed between DIRECTORY and READ is shown as gone rather than failing the list.
                    String value = xs.readStringIfExists(full).orElse(null);
                    String perms = value == null ? null : String.join(" ", xs.getPermissions(full).format());
                    t.row(c, value == null ? "(gone)" : value, perms);
                }
                t.print(out);
            });
        }
    }

    @Command(name = "rm", description = "Remove PATH and everything below it.")
    public static final class Rm extends OnPath {
        @Parameters(paramLabel = "PATH")
        String path;

        @Override
        public Integer call() {
            return run(path, (client, xs, out) -> xs.rm(path));
        }
    }

    @Command(name = "watch", description = {"Print the path of each change at or below PATH, one per line.",
            "The first line comes at once (XenStore fires every new watch once). Runs until Ctrl-C or --count."})
    public static final class WatchPath extends OnPath {
        @Parameters(paramLabel = "PATH", description = "A path, or @introduceDomain / @releaseDomain.")
        String path;

        @Option(names = "--count", paramLabel = "N", description = "Stop after N events (the first one included).")
        Integer count;

        @Override
        public Integer call() {
            if (count != null && count < 1) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--count must be at least 1");
            }
            return run(path, (client, xs, out) -> {
                try (Watch w = xs.await(client.watch(path))) {
                    for (int seen = 0; count == null || seen < count; ) {
                        // Polled in steps so a closed connection is noticed instead of waiting forever.
                        WatchEvent e = w.poll(Duration.ofSeconds(1));
                        if (e != null) {
                            out.println(Text.cell(e.path()));
                            out.flush();
                            seen++;
                        }
                    }
                }
            });
        }
    }

    @Command(name = "perms", description = {"Print the permissions of PATH, or set them to SET.",
            "Each entry is a letter and a domid: n (none), r (read), w (write), b (both); the first entry "
                    + "names the owner and everybody else's access, e.g. 'n0 r5'."})
    public static final class Perms extends OnPath {
        @Parameters(index = "0", paramLabel = "PATH")
        String path;

        @Parameters(index = "1..*", paramLabel = "SET", description = "New permissions, e.g. n0 r5.")
        List<String> set;

        @Override
        public Integer call() {
            return run(path, (client, xs, out) -> {
                if (set == null || set.isEmpty()) {
                    out.println(String.join(" ", xs.getPermissions(path).format()));
                } else {
                    xs.setPermissions(path, Permissions.parse(String.join(" ", set)));
                }
            });
        }
    }
}
