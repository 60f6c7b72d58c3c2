package io.xenops.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import io.xenops.testbed.dom0.XenSpawnBenchInDom0;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The Xen spawn benchmark (issue #5), one run in its own boot: xenopsd's warm spawn against xl (see
 * {@link XenSpawnBenchInDom0}). CI runs the short form (10 samples a series); the documented run took
 * {@code -Dxenops.bench.samples=N}. The table, with the host's load average before and after, is
 * copied to {@code target/xen-bench.md} for docs/benchmarks.md.
 */
@XenTestbed(xenstored = Xenstored.OXENSTORED, dom0SuiteTimeoutSeconds = 2100)
class XenSpawnBenchTest {

    @TestFactory
    Stream<DynamicNode> benchmark(Dom0Suite dom0) throws IOException {
        String load0 = Files.readString(Path.of("/proc/loadavg")).strip();
        int job = dom0.xen().nextJobNumber();
        List<DynamicNode> nodes = dom0.dynamicTests(XenSpawnBenchInDom0.class).toList();
        String load1 = Files.readString(Path.of("/proc/loadavg")).strip();
        Path table = dom0.xen().jobDir(job).resolve("xen-bench.md");
        Path out = Path.of(System.getProperty("xenops.testbed.work", "target/xen-testbed")).resolveSibling("xen-bench.md");
        if (Files.exists(table)) {
            String text = "Host /proc/loadavg " + load0 + " before, " + load1 + " after (the host runs QEMU TCG for the whole"
                    + " nested Xen).\n" + Files.readString(table);
            Files.writeString(out, text);
            System.out.println(text);
        }
        return Stream.concat(nodes.stream(), Stream.of(DynamicTest.dynamicTest("the table was written", () -> {
            assertThat(table).as("xen-bench.md in dom0's job directory").exists();
            try {
                assertThat(Files.readString(table)).contains("API → running").contains("xl unpause");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        })));
    }
}
