package io.xenops.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.xenops.daemon.config.ConfigLoader;
import io.xenops.daemon.config.DaemonConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The distribution's tree, its runtime, and its two commands run on a host with no JDK on PATH. */
class DistributionIT {
    private final Dist dist = Dist.built();

    @TempDir
    Path tmp;

    @Test
    void theTreeHasEveryPartAndTheTarballHoldsIt() throws Exception {
        for (String f : List.of("bin/xenopsd", "bin/xenopsctl", "runtime/bin/java", "lib/xenopsd/xenopsd.jar",
                "lib/xenopsctl/xenopsctl.jar", "etc/xenopsd.json", "images/hello/manifest.json", "images/hello/kernel.elf",
                "lib/systemd/system/xenopsd.service", "share/bash-completion/completions/xenopsctl", "README.md")) {
            assertThat(dist.path(f)).as(f).isRegularFile();
        }
        assertThat(dist.path("bin/xenopsd")).isExecutable();
        assertThat(dist.path("bin/xenopsctl")).isExecutable();
        Path tarball = dist.home.resolveSibling("xenops-" + dist.version + ".tar.gz");
        Dist.Run listing = Dist.run(Map.of("PATH", "/usr/bin:/bin"), tmp.resolve("tar.log"), 120, "tar", "-tzf", tarball.toString());
        assertThat(listing.exit()).isZero();
        String top = "xenops-" + dist.version + "/";
        assertThat(listing.out().lines()).contains(top + "bin/xenopsd", top + "runtime/bin/java", top + "lib/xenopsd/xenopsd.jar",
                top + "lib/systemd/system/xenopsd.service", top + "images/hello/kernel.elf");
    }

    @Test
    void everyJarAnAppNamesShipsBesideIt() throws Exception {
        for (String app : List.of("xenopsd", "xenopsctl")) {
            Path jar = dist.path("lib/" + app + "/" + app + ".jar");
            try (var fs = java.nio.file.FileSystems.newFileSystem(jar)) {
                var manifest = new java.util.jar.Manifest(Files.newInputStream(fs.getPath("META-INF/MANIFEST.MF")));
                String cp = manifest.getMainAttributes().getValue("Class-Path");
                assertThat(cp).as(app + " Class-Path").isNotBlank();
                for (String entry : cp.trim().split(" +")) assertThat(jar.resolveSibling(entry)).as(app + ": " + entry).isRegularFile();
            }
        }
    }

    @Test
    void theRuntimeIsTrimmedToWhatTheAppsUse() throws Exception {
        Dist.Run r = Dist.run(Map.of(), tmp.resolve("modules.log"), 60, dist.path("runtime/bin/java").toString(), "--list-modules");
        assertThat(r.exit()).isZero();
        List<String> modules = r.out().lines().map(l -> l.replaceAll("@.*", "")).toList();
        assertThat(modules).contains("java.base", "jdk.unsupported", "java.net.http");
        // The JDK's development tools are what a full JDK adds; none of them may ship.
        assertThat(modules).doesNotContain("jdk.compiler", "jdk.jshell", "jdk.jlink", "jdk.jdeps", "jdk.javadoc", "jdk.jdi");
        assertThat(modules.size()).as("modules in the runtime: " + modules).isLessThan(30);
    }

    @Test
    void xenopsdHelpRunsOnTheBundledRuntimeWithoutAnySystemJdk() throws Exception {
        Map<String, String> env = Dist.scrubbedEnv(tmp.resolve("tools"), tmp);
        Dist.Run r = Dist.run(env, tmp.resolve("xenopsd.log"), 120, dist.path("bin/xenopsd").toString(), "--help");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("usage: xenopsd").contains("--state-dir").contains("--driver");
    }

    @Test
    void xenopsctlHelpRunsOnTheBundledRuntimeWithoutAnySystemJdk() throws Exception {
        Map<String, String> env = Dist.scrubbedEnv(tmp.resolve("tools"), tmp);
        Dist.Run r = Dist.run(env, tmp.resolve("xenopsctl.log"), 120, dist.path("bin/xenopsctl").toString(), "--help");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("xenopsctl").contains("spawn").contains("generate-completion");
    }

    @Test
    void theLaunchersWorkThroughASymlinkOnPath() throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("usr-local-bin"));
        Files.createSymbolicLink(bin.resolve("xenopsctl"), dist.path("bin/xenopsctl"));
        Map<String, String> env = Dist.scrubbedEnv(tmp.resolve("tools"), tmp);
        Dist.Run r = Dist.run(env, tmp.resolve("link.log"), 120, bin.resolve("xenopsctl").toString(), "--version");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains(dist.version.replace("-SNAPSHOT", ""));
    }

    @Test
    void completionRegistersForXenopsctlAndKnowsItsCommands() throws Exception {
        Path script = dist.path("share/bash-completion/completions/xenopsctl");
        assertThat(Files.readString(script)).contains("spawn").contains("pool").contains("images");
        Dist.Run r = Dist.run(Map.of("PATH", "/usr/bin:/bin"), tmp.resolve("complete.log"), 60,
                "bash", "-c", "source " + script + " && complete -p xenopsctl");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out().strip()).matches("complete .*-F [_A-Za-z0-9]+ xenopsctl");
    }

    @Test
    void theDefaultConfigIsValidAndRestatesTheDaemonsDefaults() {
        Path file = dist.path("etc/xenopsd.json");
        DaemonConfig fromFile = new ConfigLoader(Map.of()).load(new String[] {"--config", file.toString()});
        DaemonConfig builtIn = new ConfigLoader(Map.of()).load(new String[0]);
        assertThat(fromFile).isEqualTo(builtIn);
        assertThat(fromFile.listenHost()).isEqualTo("127.0.0.1");
    }
}
