package io.xenops.driver;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything a driver needs to build one domain.
 *
 * @param id      the daemon's id for the VM; drivers use it to name every resource they create
 * @param image   image name, for labels and logs
 * @param kernel  the unikernel ELF
 * @param memoryMiB guest memory
 * @param vcpus   virtual CPUs
 * @param cmdline kernel command line (the daemon passes {@code xenops.id=<id>})
 */
public record DomainSpec(String id, String image, Path kernel, int memoryMiB, int vcpus, String cmdline) {
    public DomainSpec {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(cmdline, "cmdline");
        if (memoryMiB < 1) throw new IllegalArgumentException("memoryMiB must be positive");
        if (vcpus < 1) throw new IllegalArgumentException("vcpus must be positive");
    }
}
