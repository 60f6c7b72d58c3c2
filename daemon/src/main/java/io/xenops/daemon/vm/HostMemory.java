package io.xenops.daemon.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The admission check for new VMs against the host's free memory: a new VM must leave
 * {@code host_memory_reserve_mib} of MemAvailable free. The reading is cached: it is refreshed off the
 * control context (a file read on a worker) by a timer, so the spawn path only compares two numbers.
 *
 * <p>Between readings each admitted build is subtracted from the cached figure, so a burst of builds cannot
 * all pass on one stale reading. Confined to the control context, like the rest of {@link VmService}.
 */
final class HostMemory {
    /** Where the figure comes from: /proc/meminfo on Linux; tests may use another file. */
    interface Source {
        /** MemAvailable in MiB, or -1 when the host does not say. */
        long availableMiB() throws IOException;
    }

    private final long reserveMiB;
    private long availableMiB = -1;
    private boolean low;

    HostMemory(long reserveMiB) { this.reserveMiB = reserveMiB; }

    long reserveMiB() { return reserveMiB; }

    boolean enabled() { return reserveMiB > 0; }

    /** The last reading less what was admitted since, or -1 before the first reading. */
    long availableMiB() { return availableMiB; }

    /** Below the reserve at the last reading: pools shed paused VMs and no new VM is built. */
    boolean low() { return low; }

    /** Whether a VM of {@code vmMiB} may be built now. Unknown memory admits: the check must not invent outages. */
    boolean admits(long vmMiB) {
        return !enabled() || availableMiB < 0 || availableMiB - vmMiB >= reserveMiB;
    }

    /** An admitted build is about to take its memory. */
    void admitted(long vmMiB) {
        if (availableMiB >= 0) availableMiB -= vmMiB;
    }

    /** A fresh reading; returns true when the low/ok state changed. */
    boolean update(long readingMiB) {
        availableMiB = readingMiB;
        boolean nowLow = enabled() && readingMiB >= 0 && readingMiB < reserveMiB;
        boolean changed = nowLow != low;
        low = nowLow;
        return changed;
    }

    String describe(long vmMiB) {
        return "the host has " + availableMiB + " MiB of memory available; a VM needs " + vmMiB
                + " MiB and host_memory_reserve_mib keeps " + reserveMiB + " MiB free";
    }

    static Source procMeminfo() { return file(Path.of("/proc/meminfo")); }

    static Source file(Path meminfo) {
        return () -> {
            if (!Files.isReadable(meminfo)) return -1;
            for (String line : Files.readAllLines(meminfo)) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
            return -1;
        };
    }
}
