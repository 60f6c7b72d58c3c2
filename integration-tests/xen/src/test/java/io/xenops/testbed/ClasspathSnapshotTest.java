package io.xenops.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClasspathSnapshotTest {

    @TempDir
    Path tmp;

    @Test
    void aJarReplacedOnTheHostAfterTheSnapshotDoesNotChangeIt() throws Exception {
        Path jar = Files.writeString(Files.createDirectories(tmp.resolve("m2/x/1.0")).resolve("x-1.0.jar"), "old bytes");
        Path classes = Files.createDirectories(tmp.resolve("mod/target/classes/a"));
        Path clazz = Files.writeString(classes.resolve("A.class"), "class v1");
        Dom0Java java = new Dom0Java(Path.of("/jdk"), List.of(jar, classes.getParent(), tmp.resolve("missing")),
                List.of(), Map.of());

        Dom0Java frozen = ClasspathSnapshot.of(java, tmp.resolve("snap"));

        assertThat(frozen.classpath()).hasSize(2).allMatch(p -> p.startsWith(tmp.resolve("snap")));
        // What a concurrent mvn install and javac do: replace the jar, rewrite the class file in place.
        Path fresh = Files.writeString(tmp.resolve("fresh.jar"), "new bytes");
        Files.move(fresh, jar, StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(clazz, "class v2");
        assertThat(Files.readString(frozen.classpath().get(0))).isEqualTo("old bytes");
        assertThat(Files.readString(frozen.classpath().get(1).resolve("a/A.class"))).isEqualTo("class v1");
    }

    @Test
    void sharesAreMountedParentsFirstWithTheirCacheMode() {
        List<Share> shares = List.of(new Share(Path.of("/work/main/x/target/snap"), true), new Share(Path.of("/work/main"), false),
                new Share(Path.of("/usr/lib/jvm/jdk"), true));
        assertThat(NestedXen.sharesForAgent(shares))
                .isEqualTo("ro0:none:/work/main ro1:loose:/usr/lib/jvm/jdk ro2:loose:/work/main/x/target/snap");
    }
}
