package io.xenops.driver.qemu;

import io.xenops.driver.DomainSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Builds QEMU's argv for one domain and names the files in its directory. Pure: no I/O, so tests can
 * check every flag.
 */
final class QemuCommandLine {
    /** {@code -name xenops:<id>}: how adopt tells our processes from others after pid reuse. */
    static final String NAME_PREFIX = "xenops:";
    static final String QMP_SOCKET = "qmp.sock";
    static final String CONSOLE_SOCKET = "console.sock";
    static final String CONSOLE_LOG = "console.log";
    static final String PIDFILE = "qemu.pid";
    static final String QEMU_LOG = "qemu.log";
    /** The id of the guest's RAM backend object. */
    static final String RAM_ID = "ram";

    /** Ids become directory names and command-line values: keep them to a safe alphabet. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private QemuCommandLine() {}

    static boolean isValidId(String id) {
        return id != null && ID.matcher(id).matches();
    }

    static void requireValidId(String id) {
        if (!isValidId(id)) throw new IllegalArgumentException("domain id must match " + ID.pattern() + ": " + id);
    }

    /** Fails clearly when a socket path would not fit in sockaddr_un (QEMU would fail obscurely). */
    static void requireSocketPathFits(Path dir) {
        if (dir.toString().contains(",")) {
            // QEMU splits option values on commas; a path with one would be cut short.
            throw new IllegalArgumentException("domain directory must not contain ',': " + dir);
        }
        for (String name : List.of(QMP_SOCKET, CONSOLE_SOCKET)) {
            Path p = dir.resolve(name);
            int len = p.toString().getBytes(StandardCharsets.UTF_8).length;
            if (len > QemuConfig.MAX_SOCKET_PATH) {
                throw new IllegalArgumentException("socket path " + p + " is " + len + " bytes; unix sockets allow "
                        + QemuConfig.MAX_SOCKET_PATH + ": use a shorter state directory or domain id");
            }
        }
    }

    /**
     * QEMU's argv (without the setsid prefix).
     *
     * @param machine {@code -M} value
     * @param extraArgs appended last
     */
    static List<String> build(String qemu, String machine, AccelChoice accel, DomainSpec spec, Path dir,
                              boolean consoleLogFile, List<String> extraArgs) {
        List<String> a = new ArrayList<>();
        a.add(qemu);
        a.add("-name");
        a.add(NAME_PREFIX + spec.id());
        a.add("-M");
        // Guest RAM from a memfd (shmem) instead of anonymous memory: QEMU madvises anonymous guest RAM for
        // transparent huge pages, so a 4 MiB guest that touched a few hundred KiB held one or two whole 2 MiB
        // pages. shmem is not huge-paged here, so a paused VM keeps only the pages its guest touched
        // (measured: 12.1 -> 10.2 MiB PSS per paused hello VM; docs/benchmarks.md, "Density and refill").
        a.add(machine + ",memory-backend=" + RAM_ID);
        a.add("-object");
        a.add("memory-backend-memfd,id=" + RAM_ID + ",size=" + spec.memoryMiB() + "M");
        a.add("-no-reboot"); // a guest reset (triple fault) ends the process instead of rebooting it
        a.add("-S"); // paused before the first instruction: the pool's whole point
        a.add("-nodefaults");
        a.add("-nographic");
        a.add("-nic");
        a.add("none");
        a.add("-m");
        a.add(Integer.toString(spec.memoryMiB()));
        a.add("-smp");
        a.add(Integer.toString(spec.vcpus()));
        a.add("-accel");
        a.add(accel.accel());
        a.add("-cpu");
        a.add(accel.cpu());
        a.add("-kernel");
        a.add(spec.kernel().toAbsolutePath().toString());
        a.add("-append");
        a.add(spec.cmdline());
        a.add("-chardev");
        a.add("socket,id=con,path=" + dir.resolve(CONSOLE_SOCKET) + ",server=on,wait=off"
                + (consoleLogFile ? ",logfile=" + dir.resolve(CONSOLE_LOG) : ""));
        a.add("-serial");
        a.add("chardev:con");
        a.add("-qmp");
        a.add("unix:" + dir.resolve(QMP_SOCKET) + ",server=on,wait=off");
        a.add("-pidfile");
        a.add(dir.resolve(PIDFILE).toString());
        a.addAll(extraArgs);
        return a;
    }
}
