package io.xenops.testbed;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A built testbed image: one directory of the cache, named by the sha256 of its recipe.
 *
 * @param dir     the cache directory
 * @param key     the recipe hash (the directory's name)
 * @param xen     the hypervisor as a multiboot ELF (QEMU's -kernel does not take the gzip)
 * @param vmlinuz the dom0 kernel
 * @param initrd  the dom0 root filesystem as a cpio archive
 */
public record Dom0Image(Path dir, String key, Path xen, Path vmlinuz, Path initrd) {

    /** Reads an image directory written by build-image.sh, refusing one that is not complete. */
    public static Dom0Image load(Path dir) {
        if (!Files.isRegularFile(dir.resolve("complete"))) {
            throw new TestbedException("not a complete testbed image: " + dir);
        }
        try {
            String key = Files.readString(dir.resolve("recipe.sha256")).strip();
            return new Dom0Image(dir, key, dir.resolve("xen"), dir.resolve("vmlinuz"), dir.resolve("initrd.cpio"));
        } catch (IOException e) {
            throw new TestbedException("cannot read testbed image " + dir, e);
        }
    }
}
