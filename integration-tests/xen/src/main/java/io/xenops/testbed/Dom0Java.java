package io.xenops.testbed;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How to start Java 25 inside dom0: the host's JDK and classpath, which dom0 sees at the same paths
 * through the 9p shares (see {@link Share} and {@link ClasspathSnapshot}).
 *
 * @param javaHome         the JDK, shared read-only
 * @param classpath        classpath entries, host paths
 * @param jvmOptions       options before the main class
 * @param systemProperties -D properties for the in-dom0 code
 */
public record Dom0Java(Path javaHome, List<Path> classpath, List<String> jvmOptions, Map<String, String> systemProperties) {

    public Dom0Java {
        classpath = List.copyOf(classpath);
        jvmOptions = List.copyOf(jvmOptions);
        systemProperties = Map.copyOf(systemProperties);
    }

    /**
     * The JVM running this code, as dom0 should run it: same JDK, same classpath. Measured in dom0
     * under TCG: the CDS archive makes a JVM start slower, not faster (mapping it from 9p cost 39 to
     * 77 s against 15 to 50 s without, nearly all of it kernel time), so sharing is off. C1 only,
     * because C2's compile time costs more than it saves in a short test run. FFM needs native access.
     */
    public static Dom0Java ofThisJvm() {
        String cp = System.getProperty("java.class.path", "");
        List<Path> entries = new ArrayList<>();
        for (String entry : cp.split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                entries.add(Path.of(entry).toAbsolutePath().normalize());
            }
        }
        return new Dom0Java(Path.of(System.getProperty("java.home")), entries,
                List.of("--enable-native-access=ALL-UNNAMED", "-Xshare:off", "-XX:TieredStopAtLevel=1",
                        "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Xmx384m"),
                Map.of());
    }

    public Dom0Java withSystemProperty(String key, String value) {
        Map<String, String> props = new TreeMap<>(systemProperties);
        props.put(key, value);
        return new Dom0Java(javaHome, classpath, jvmOptions, props);
    }

    /** A shell command line (bash) that runs {@code mainClass} with {@code args} inside dom0. */
    public String commandLine(String mainClass, List<String> args) {
        List<String> words = new ArrayList<>();
        words.add(javaHome.resolve("bin").resolve("java").toString());
        words.addAll(jvmOptions);
        new TreeMap<>(systemProperties).forEach((k, v) -> words.add("-D" + k + "=" + v));
        words.add("-cp");
        words.add(String.join(File.pathSeparator, classpath.stream().map(Path::toString).toList()));
        words.add(mainClass);
        words.addAll(args);
        return String.join(" ", words.stream().map(Dom0Java::quote).toList());
    }

    /** Single-quotes a word for bash. */
    public static String quote(String word) {
        return "'" + word.replace("'", "'\\''") + "'";
    }
}
