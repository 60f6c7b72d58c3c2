package io.xenops.ctl.api;

import java.util.List;

/** GET /v1/images/{image}: the image with its provenance and store facts. */
public record ImageDetails(String name, String ref, String version, String digest, String configDigest,
                           Integer memoryMib, Integer vcpus, List<String> bootModes, String cmdline,
                           Long sizeBytes, String created, String lastUsed, Boolean pinned, String source) {
    public ImageDetails {
        bootModes = bootModes == null ? List.of() : List.copyOf(bootModes);
    }
}
