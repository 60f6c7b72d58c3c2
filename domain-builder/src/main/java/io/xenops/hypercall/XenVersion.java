package io.xenops.hypercall;

/** What {@code __HYPERVISOR_xen_version} reports: XENVER_version and XENVER_extraversion. */
public record XenVersion(int major, int minor, String extra) {
    @Override
    public String toString() {
        return major + "." + minor + extra;
    }
}
