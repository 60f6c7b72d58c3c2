package io.xenops.driver.qemu;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What the driver writes to {@code domain.json} before it starts a VM, so that a restarted daemon can
 * find it. A null {@code pid} means "created, not yet confirmed": the VM may or may not exist, and
 * {@code adopt} destroys it.
 *
 * @param version format version, for the day the fields change
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DomainRecord(
        int version,
        String id,
        String image,
        String kernel,
        int memoryMiB,
        int vcpus,
        String cmdline,
        String accel,
        String cpu,
        long createdEpochMillis,
        Long pid) {

    public static final int VERSION = 1;

    public DomainRecord withPid(long newPid) {
        return new DomainRecord(version, id, image, kernel, memoryMiB, vcpus, cmdline, accel, cpu, createdEpochMillis, newPid);
    }
}
