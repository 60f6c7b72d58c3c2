package io.xenops.driver.libvirt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * The project's unikernel images, built by the unikernel module into {@code unikernel/target}. A build
 * of this module alone ({@code -pl domain-builder}) does not build them, so they are built here when
 * missing; each test copies the ELF so that a rebuild running beside it cannot change it mid-test.
 */
final class Unikernels {
    private Unikernels() {}

    static Path root() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("unikernel"))) p = p.getParent();
        if (p == null) throw new AssertionError("cannot find the repository's unikernel/ directory above " + Path.of("").toAbsolutePath());
        return p;
    }

    /**
     * A copy of the image's kernel in {@code into}.
     *
     * @param kind {@code images} (product) or {@code test-images} (fixtures such as crash)
     */
    static Path kernel(String kind, String app, Path into) throws Exception {
        Path unikernel = root().resolve("unikernel");
        Path elf = unikernel.resolve("target").resolve(kind).resolve(app).resolve("kernel.elf");
        if (!Files.isRegularFile(elf)) {
            Libvirtd.Cmd r = Libvirtd.Cmd.run(Duration.ofMinutes(10), "bash", unikernel.resolve("build.sh").toString(),
                    unikernel.resolve("target").toString());
            if (r.code() != 0 || !Files.isRegularFile(elf)) {
                throw new AssertionError("no unikernel at " + elf + " and building it failed (mvn -pl unikernel package): " + r.out());
            }
        }
        Files.createDirectories(into);
        Path copy = into.resolve(app + ".elf");
        try {
            Files.copy(elf, copy, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new AssertionError("cannot copy " + elf + ": " + e.getMessage(), e);
        }
        return copy;
    }
}
