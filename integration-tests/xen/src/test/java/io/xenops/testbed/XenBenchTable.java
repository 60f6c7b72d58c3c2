package io.xenops.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;

/**
 * Runs a dom0 class that writes the Xen spawn benchmark's table ({@code xen-bench.md} in its job's directory),
 * copies the table next to the testbed's work directory with the host's load before and after, and adds a
 * test that the table was written.
 */
final class XenBenchTable {

    private XenBenchTable() {
    }

    /**
     * @param suite       the dom0 suite to run {@code testClass} with (its properties and timeout)
     * @param outName     the copy's file name, beside {@code xenops.testbed.work}
     * @param testName    the added test's name
     * @param mustContain what the table must say
     */
    static Stream<DynamicNode> runAndCopy(Dom0Suite suite, Class<?> testClass, String outName, String testName,
                                          List<String> mustContain) throws IOException {
        String load0 = Files.readString(Path.of("/proc/loadavg")).strip();
        int job = suite.xen().nextJobNumber();
        List<DynamicNode> nodes = suite.dynamicTests(testClass).toList();
        String load1 = Files.readString(Path.of("/proc/loadavg")).strip();
        Path table = suite.xen().jobDir(job).resolve("xen-bench.md");
        Path out = Path.of(System.getProperty("xenops.testbed.work", "target/xen-testbed")).resolveSibling(outName);
        if (Files.exists(table)) {
            String text = "Host /proc/loadavg " + load0 + " before, " + load1 + " after (the host runs QEMU TCG for the whole"
                    + " nested Xen).\n" + Files.readString(table);
            Files.writeString(out, text);
            System.out.println(text);
        }
        return Stream.concat(nodes.stream(), Stream.of(DynamicTest.dynamicTest(testName, () -> {
            assertThat(table).as("xen-bench.md in dom0's job directory").exists();
            try {
                String text = Files.readString(table);
                for (String s : mustContain) assertThat(text).contains(s);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        })));
    }
}
