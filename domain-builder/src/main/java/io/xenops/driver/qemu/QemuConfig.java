package io.xenops.driver.qemu;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How the QEMU driver runs VMs. Build one with {@link #defaults(Path)} and the {@code with*} methods.
 *
 * @param qemuBinary     the emulator, a path or a name looked up on PATH
 * @param setsid         util-linux {@code setsid}: puts each QEMU in its own session so that Ctrl-C
 *                       or the death of the daemon does not reach it
 * @param stateDir       the driver's state; domains live in {@code <stateDir>/domains/<id>/}
 * @param accel          {@link Accel#AUTO} probes KVM once and falls back to TCG
 * @param cpu            {@code -cpu} model, or null to choose per accelerator (the probe picks the first
 *                       KVM model that starts; TCG uses {@code max})
 * @param machine        {@code -M} value; microvm without legacy devices boots fastest
 * @param extraArgs      appended to every command line (devices a unikernel needs, e.g. isa-debug-exit)
 * @param consoleTailBytes bytes of console output kept per domain for {@code console(id)}
 * @param consoleLogFile also let QEMU append the console to {@code console.log} in the domain's
 *                       directory (survives a daemon restart; not bounded by QEMU)
 * @param createTimeout  bound on {@code create}: process start to paused and reachable
 * @param destroyTimeout how long {@code destroy} waits after QMP {@code quit} before SIGKILL
 * @param probeKernel    a kernel that prints READY; when set, AUTO proves KVM by booting it, which is the
 *                       only test that catches emulators (kvm-pvm) that start QEMU but cannot run the
 *                       guest. When null the probe only starts a paused QEMU under KVM.
 * @param probeTimeout   bound on each probe attempt
 */
public record QemuConfig(
        String qemuBinary,
        String setsid,
        Path stateDir,
        Accel accel,
        String cpu,
        String machine,
        List<String> extraArgs,
        int consoleTailBytes,
        boolean consoleLogFile,
        Duration createTimeout,
        Duration destroyTimeout,
        Path probeKernel,
        Duration probeTimeout) {

    /** Which accelerator QEMU uses. */
    public enum Accel { AUTO, KVM, TCG }

    public static final String DEFAULT_MACHINE = "microvm,acpi=off,pit=off,pic=off,rtc=off,x-option-roms=off";

    /**
     * unix(7): sun_path holds 108 bytes including the terminating NUL, so a socket path may have at
     * most 107 bytes.
     */
    public static final int MAX_SOCKET_PATH = 107;

    public QemuConfig {
        Objects.requireNonNull(qemuBinary, "qemuBinary");
        Objects.requireNonNull(setsid, "setsid");
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(accel, "accel");
        Objects.requireNonNull(machine, "machine");
        Objects.requireNonNull(createTimeout, "createTimeout");
        Objects.requireNonNull(destroyTimeout, "destroyTimeout");
        Objects.requireNonNull(probeTimeout, "probeTimeout");
        // Absolute and normalized: it is compared against other processes' command lines.
        stateDir = stateDir.toAbsolutePath().normalize();
        extraArgs = List.copyOf(extraArgs);
        if (consoleTailBytes < 1024) throw new IllegalArgumentException("consoleTailBytes must be at least 1024");
        if (cpu != null && cpu.isBlank()) cpu = null;
    }

    public static QemuConfig defaults(Path stateDir) {
        return new QemuConfig("qemu-system-x86_64", "setsid", stateDir, Accel.AUTO, null, DEFAULT_MACHINE, List.of(),
                64 * 1024, true, Duration.ofSeconds(10), Duration.ofSeconds(3), null, Duration.ofSeconds(10));
    }

    public QemuConfig withQemuBinary(String v) {
        return new QemuConfig(v, setsid, stateDir, accel, cpu, machine, extraArgs, consoleTailBytes, consoleLogFile,
                createTimeout, destroyTimeout, probeKernel, probeTimeout);
    }

    public QemuConfig withAccel(Accel v) {
        return new QemuConfig(qemuBinary, setsid, stateDir, v, cpu, machine, extraArgs, consoleTailBytes, consoleLogFile,
                createTimeout, destroyTimeout, probeKernel, probeTimeout);
    }

    public QemuConfig withCpu(String v) {
        return new QemuConfig(qemuBinary, setsid, stateDir, accel, v, machine, extraArgs, consoleTailBytes, consoleLogFile,
                createTimeout, destroyTimeout, probeKernel, probeTimeout);
    }

    public QemuConfig withMachine(String v) {
        return new QemuConfig(qemuBinary, setsid, stateDir, accel, cpu, v, extraArgs, consoleTailBytes, consoleLogFile,
                createTimeout, destroyTimeout, probeKernel, probeTimeout);
    }

    public QemuConfig withExtraArgs(List<String> v) {
        return new QemuConfig(qemuBinary, setsid, stateDir, accel, cpu, machine, v, consoleTailBytes, consoleLogFile,
                createTimeout, destroyTimeout, probeKernel, probeTimeout);
    }

    public QemuConfig withConsoleTailBytes(int v) {
        return new QemuConfig(qemuBinary, setsid, stateDir, accel, cpu, machine, extraArgs, v, consoleLogFile,
                createTimeout, destroyTimeout, probeKernel, probeTimeout);
    }

    public QemuConfig withConsoleLogFile(boolean v) {
        return new QemuConfig(qemuBinary, setsid, stateDir, accel, cpu, machine, extraArgs, consoleTailBytes, v,
                createTimeout, destroyTimeout, probeKernel, probeTimeout);
    }

    public QemuConfig withCreateTimeout(Duration v) {
        return new QemuConfig(qemuBinary, setsid, stateDir, accel, cpu, machine, extraArgs, consoleTailBytes, consoleLogFile,
                v, destroyTimeout, probeKernel, probeTimeout);
    }

    public QemuConfig withDestroyTimeout(Duration v) {
        return new QemuConfig(qemuBinary, setsid, stateDir, accel, cpu, machine, extraArgs, consoleTailBytes, consoleLogFile,
                createTimeout, v, probeKernel, probeTimeout);
    }

    public QemuConfig withProbeKernel(Path v) {
        return new QemuConfig(qemuBinary, setsid, stateDir, accel, cpu, machine, extraArgs, consoleTailBytes, consoleLogFile,
                createTimeout, destroyTimeout, v, probeTimeout);
    }

    public QemuConfig withProbeTimeout(Duration v) {
        return new QemuConfig(qemuBinary, setsid, stateDir, accel, cpu, machine, extraArgs, consoleTailBytes, consoleLogFile,
                createTimeout, destroyTimeout, probeKernel, v);
    }

    /** Where domain directories live. */
    public Path domainsDir() {
        return stateDir.resolve("domains");
    }
}
