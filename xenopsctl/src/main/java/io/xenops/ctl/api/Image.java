package io.xenops.ctl.api;

import java.util.List;

public record Image(String name, String version, String digest, int memoryMib, int vcpus,
                    List<String> bootModes, Long sizeBytes) {
    public Image {
        bootModes = bootModes == null ? List.of() : List.copyOf(bootModes);
    }
}
