package io.xenops.testbed;

import java.time.Duration;

/**
 * How long a boot took: from starting QEMU to the agent's READY (xenstored and xenconsoled answer),
 * and dom0's own uptime at that moment (the rest is QEMU, SeaBIOS and Xen before dom0 runs).
 */
public record BootTimings(Duration qemuToReady, Duration dom0UptimeAtReady) {
}
