package io.xenops.testbed;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How to build and boot one nested Xen.
 *
 * @param recipeDir     integration-tests/xen/testbed: build-image.sh, agent.sh, run-qemu.sh
 * @param workDir       where each boot gets its job share and console log (under target/)
 * @param xenstored     which XenStore daemon dom0 runs
 * @param shares        host directories dom0 mounts read-only over 9p, each at the same path as on the
 *                      host, so host paths (JDK, classpath, build output) work unchanged inside dom0
 * @param memoryMiB     QEMU guest memory
 * @param cpus          QEMU vCPUs
 * @param dom0MemoryMiB Xen's dom0_mem
 * @param bootTimeout   QEMU start to READY, after which the boot counts as failed
 * @param hardDeadline  the watchdog stops QEMU after this, whatever the JVM does
 * @param qemuBinary    the QEMU executable
 */
public record TestbedConfig(
        Path recipeDir,
        Path workDir,
        Xenstored xenstored,
        List<Share> shares,
        int memoryMiB,
        int cpus,
        int dom0MemoryMiB,
        Duration bootTimeout,
        Duration hardDeadline,
        String qemuBinary) {

    public TestbedConfig {
        Objects.requireNonNull(recipeDir, "recipeDir");
        Objects.requireNonNull(workDir, "workDir");
        Objects.requireNonNull(xenstored, "xenstored");
        shares = List.copyOf(shares);
        if (dom0MemoryMiB >= memoryMiB) {
            throw new IllegalArgumentException("dom0 needs less memory than the machine: " + dom0MemoryMiB + " >= " + memoryMiB);
        }
    }

    /**
     * The measured defaults (see docs/testbed.md): 2 GiB and 2 vCPUs for the machine, 1 GiB for dom0.
     * Boots took 30 to 45 s on a quiet 2-core host, but TCG slows down roughly in proportion to the
     * host's load (over 3 minutes at load 20), so the boot timeout is generous; the property
     * xenops.testbed.bootTimeoutSeconds overrides it. The watchdog's hard deadline (40 minutes) is
     * xenops.testbed.hardDeadlineMinutes, for runs that are long on purpose (the long Xen benchmark).
     */
    public static TestbedConfig defaults(Path recipeDir, Path workDir) {
        Duration boot = Duration.ofSeconds(Long.getLong("xenops.testbed.bootTimeoutSeconds", 480));
        return new TestbedConfig(recipeDir, workDir, Xenstored.OXENSTORED, List.of(), 2048, 2, 1024,
                boot, Duration.ofMinutes(Long.getLong("xenops.testbed.hardDeadlineMinutes", 40)), "qemu-system-x86_64");
    }

    /** Defaults from the system properties that the module's Surefire configuration sets. */
    public static TestbedConfig fromSystemProperties() {
        return defaults(Path.of(required("xenops.testbed.recipe")), Path.of(required("xenops.testbed.work")));
    }

    public TestbedConfig withXenstored(Xenstored value) {
        return new TestbedConfig(recipeDir, workDir, value, shares, memoryMiB, cpus, dom0MemoryMiB, bootTimeout,
                hardDeadline, qemuBinary);
    }

    public TestbedConfig withShares(List<Share> value) {
        return new TestbedConfig(recipeDir, workDir, xenstored, value, memoryMiB, cpus, dom0MemoryMiB, bootTimeout,
                hardDeadline, qemuBinary);
    }

    public TestbedConfig withBootTimeout(Duration value) {
        return new TestbedConfig(recipeDir, workDir, xenstored, shares, memoryMiB, cpus, dom0MemoryMiB, value,
                hardDeadline, qemuBinary);
    }

    static String required(String property) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            throw new TestbedException("system property " + property + " is not set: run the suite through Maven "
                    + "(mvn -pl integration-tests/xen verify), whose Surefire configuration sets it");
        }
        return value;
    }
}
