package io.xenops.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The distribution the build just made, and a way to run its commands as a clean host would. */
final class Dist {
    final Path home;
    final String version;
    final String prefix;

    private Dist(Path home, String version, String prefix) {
        this.home = home;
        this.version = version;
        this.prefix = prefix;
    }

    static Dist built() {
        String dir = System.getProperty("xenops.dist");
        if (dir == null) throw new AssertionError("system property xenops.dist is unset: run these tests through Maven (mvn -pl deploy -am verify)");
        Path home = Path.of(dir);
        if (!Files.isExecutable(home.resolve("bin/xenopsd"))) {
            throw new AssertionError(home + "/bin/xenopsd is missing: the package phase (deploy/build.sh) did not build the distribution");
        }
        return new Dist(home, System.getProperty("xenops.version"), System.getProperty("xenops.prefix"));
    }

    Path path(String relative) { return home.resolve(relative); }

    /**
     * An environment with no JDK anywhere: PATH holds only the few tools the launchers use (linked into
     * {@code tools}), and neither JAVA_HOME nor anything else is inherited.
     */
    static Map<String, String> scrubbedEnv(Path tools, Path homeDir) throws IOException {
        Files.createDirectories(tools);
        for (String tool : List.of("bash", "readlink", "dirname")) {
            Path target = whichOnHost(tool);
            Path link = tools.resolve(tool);
            if (!Files.exists(link)) Files.createSymbolicLink(link, target);
        }
        assertThat(tools.resolve("java")).as("no java on the scrubbed PATH").doesNotExist();
        Map<String, String> env = new HashMap<>();
        env.put("PATH", tools.toString());
        env.put("HOME", homeDir.toString());
        return env;
    }

    private static Path whichOnHost(String tool) {
        for (String dir : List.of("/usr/bin", "/bin", "/usr/local/bin")) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) return p;
        }
        throw new AssertionError("the host has no " + tool + " in /usr/bin or /bin; the launchers need it");
    }

    record Run(int exit, String out) {}

    /** Runs a command with exactly {@code env}, stdout and stderr together, failing after a timeout. */
    static Run run(Map<String, String> env, Path log, long timeoutSeconds, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish in " + timeoutSeconds + " s:\n" + Files.readString(log));
        }
        return new Run(p.exitValue(), Files.readString(log));
    }

    static List<String> lines(Path file) throws IOException { return new ArrayList<>(Files.readAllLines(file)); }
}
