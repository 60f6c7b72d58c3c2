package io.xenops.driver.qemu;

/**
 * What the driver decided to run VMs with, and why (for the startup log and the operator).
 *
 * @param accel {@code kvm} or {@code tcg}, as passed to {@code -accel}
 * @param cpu   the {@code -cpu} model
 */
public record AccelChoice(String accel, String cpu, String reason) {
    public boolean isKvm() {
        return "kvm".equals(accel);
    }
}
