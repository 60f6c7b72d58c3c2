package io.xenops.image;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A unikernel image: a kernel ELF plus what the daemon needs to run it.
 *
 * @param digest  {@code sha256:<hex>} of the kernel ELF
 * @param kernel  where the ELF is on disk (read-only; owned by the store)
 * @param cmdline extra kernel command line, appended after the daemon's own arguments
 */
public record Image(String name, String version, String digest, Path kernel, int memoryMiB, int vcpus,
                    List<BootMode> bootModes, String cmdline, long sizeBytes) {
    public Image {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kernel, "kernel");
        bootModes = List.copyOf(bootModes);
        cmdline = cmdline == null ? "" : cmdline;
        version = version == null ? "" : version;
    }
}
