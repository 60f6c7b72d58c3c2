package io.xenops.image;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Names to images. The daemon and the CLI both use it. */
public interface ImageStore {
    /** Every image the store can hand out, sorted by name. */
    List<Image> list();

    /** The image with this name (latest tag), if any. */
    Optional<Image> find(String name);

    /**
     * Imports every image directory under {@code dir} (each holds {@code manifest.json} and {@code kernel.elf},
     * as the unikernel build writes them). Returns what was imported; a broken directory fails the call
     * with {@link ImageException} naming it.
     */
    List<Image> importBundled(Path dir);
}
