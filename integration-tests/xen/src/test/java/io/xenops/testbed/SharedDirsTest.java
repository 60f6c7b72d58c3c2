package io.xenops.testbed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SharedDirsTest {

    @TempDir
    Path tmp;

    @Test
    void sharesWholeRootsAndParentsOfLooseJarsWithoutNesting() throws Exception {
        Path repo = Files.createDirectories(tmp.resolve("repo"));
        Path classes = Files.createDirectories(repo.resolve("mod/target/classes"));
        Path m2 = Files.createDirectories(tmp.resolve("m2"));
        Path jar = Files.createFile(Files.createDirectories(m2.resolve("org/x/1.0")).resolve("x-1.0.jar"));
        Path loose = Files.createFile(Files.createDirectories(tmp.resolve("elsewhere/lib")).resolve("y.jar"));
        Path jdk = Files.createDirectories(tmp.resolve("jdk"));
        Path jdkLib = Files.createDirectories(jdk.resolve("lib"));

        List<Path> shares = SharedDirs.covering(List.of(classes, jar, loose, jdkLib, jdk, tmp.resolve("missing")),
                List.of(repo, m2));

        assertThat(shares).containsExactlyInAnyOrder(repo, m2, tmp.resolve("elsewhere/lib"), jdk);
    }

    @Test
    void refusesToShareTheRootDirectory() {
        assertThatThrownBy(() -> SharedDirs.covering(List.of(Path.of("/")), List.of()))
                .isInstanceOf(TestbedException.class);
    }
}
