package io.xenops.driver.qemu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Reads Linux's /proc to find QEMU processes by their command line. Used only when the driver has no
 * Process object for a VM: at adopt time, and to find what a crash left half-made. Never on the
 * request path.
 */
final class ProcTable {
    /** A QEMU process this driver's naming scheme recognizes. */
    record QemuProcess(long pid, String id, List<String> argv) {}

    private final Path procRoot;

    ProcTable(Path procRoot) {
        this.procRoot = procRoot;
    }

    /** The argv of {@code pid}, or empty when it is gone, a zombie (empty cmdline) or unreadable. */
    Optional<List<String>> argv(long pid) {
        try {
            byte[] raw = Files.readAllBytes(procRoot.resolve(Long.toString(pid)).resolve("cmdline"));
            if (raw.length == 0) return Optional.empty();
            String s = new String(raw, StandardCharsets.UTF_8);
            if (s.endsWith("\0")) s = s.substring(0, s.length() - 1);
            return Optional.of(Arrays.asList(s.split("\0", -1)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * True when the process exists and is not a zombie. Processes we adopted are not our children:
     * when they die they stay zombies until PID 1 reaps them (1 to 2 s here), and a zombie is dead.
     */
    boolean isLive(long pid) {
        try {
            String stat = Files.readString(procRoot.resolve(Long.toString(pid)).resolve("stat"));
            int close = stat.lastIndexOf(')'); // the comm field may itself contain ')' and spaces
            if (close < 0 || close + 2 >= stat.length()) return false;
            char state = stat.charAt(close + 2);
            return state != 'Z' && state != 'X' && state != 'x';
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * True when {@code pid} is alive and is the QEMU of domain {@code id} in {@code domainsDir}: pids
     * get reused, so a recorded pid alone proves nothing.
     */
    boolean isDomainProcess(long pid, String id, Path domainsDir) {
        return isLive(pid) && argv(pid).flatMap(a -> match(pid, a, domainsDir)).map(p -> p.id().equals(id)).orElse(false);
    }

    /** Every live QEMU whose command line names a domain inside {@code domainsDir}. */
    List<QemuProcess> findDomainProcesses(Path domainsDir) {
        List<QemuProcess> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(procRoot)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (name.isEmpty() || !Character.isDigit(name.charAt(0))) continue;
                long pid;
                try {
                    pid = Long.parseLong(name);
                } catch (NumberFormatException e) {
                    continue;
                }
                if (pid == ProcessHandle.current().pid()) continue;
                argv(pid).flatMap(a -> match(pid, a, domainsDir)).filter(q -> isLive(q.pid())).ifPresent(found::add);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot list " + procRoot, e);
        }
        return found;
    }

    /**
     * Recognizes our QEMU: {@code -name xenops:<id>} and a {@code -qmp} socket inside the domain's own
     * directory under this state directory (another daemon's VMs, in another state dir, are not ours).
     */
    static Optional<QemuProcess> match(long pid, List<String> argv, Path domainsDir) {
        String id = null;
        String qmp = null;
        for (int i = 0; i + 1 < argv.size(); i++) {
            String a = argv.get(i);
            if (a.equals("-name") && argv.get(i + 1).startsWith(QemuCommandLine.NAME_PREFIX)) {
                id = argv.get(i + 1).substring(QemuCommandLine.NAME_PREFIX.length());
            } else if (a.equals("-qmp")) {
                qmp = argv.get(i + 1);
            }
        }
        if (id == null || id.isEmpty() || qmp == null) return Optional.empty();
        String expected = "unix:" + domainsDir.resolve(id).resolve(QemuCommandLine.QMP_SOCKET) + ",";
        if (!qmp.startsWith(expected)) return Optional.empty();
        return Optional.of(new QemuProcess(pid, id, List.copyOf(argv)));
    }
}
