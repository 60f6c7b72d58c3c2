package io.xenops.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import io.xenops.testbed.dom0.XenSpawnBenchInDom0;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The Xen spawn benchmark alone, for the long form that docs/benchmarks.md quotes: a daemon with only the
 * bench pool, in its own boot. Run by hand, not in the default build (a few hundred samples take half an hour
 * under TCG): {@code -Dtest=XenBenchSuiteTest -Dxenops.bench.samples=200 -Dxenops.bench.cold=20}. CI runs the
 * same measurement with 10 samples a series inside {@link DaemonOnXenSuiteTest}. The table is copied to
 * {@code target/xen-bench-long.md}.
 */
@XenTestbed(xenstored = Xenstored.OXENSTORED, dom0SuiteTimeoutSeconds = 7000)
class XenBenchSuiteTest {

    @TestFactory
    Stream<DynamicNode> benchmark(Dom0Suite dom0) throws IOException {
        String load0 = Files.readString(Path.of("/proc/loadavg")).strip();
        int job = dom0.xen().nextJobNumber();
        Dom0Suite suite = dom0.withTimeout(Duration.ofSeconds(6900));
        for (String p : List.of("xenops.bench.samples", "xenops.bench.cold")) {
            if (System.getProperty(p) != null) suite = suite.withSystemProperty(p, System.getProperty(p));
        }
        List<DynamicNode> nodes = suite.dynamicTests(XenSpawnBenchInDom0.class).toList();
        String load1 = Files.readString(Path.of("/proc/loadavg")).strip();
        Path table = dom0.xen().jobDir(job).resolve("xen-bench.md");
        Path out = Path.of(System.getProperty("xenops.testbed.work", "target/xen-testbed")).resolveSibling("xen-bench-long.md");
        if (Files.exists(table)) {
            String text = "Host /proc/loadavg " + load0 + " before, " + load1 + " after.\n" + Files.readString(table);
            Files.writeString(out, text);
            System.out.println(text);
        }
        return Stream.concat(nodes.stream(), Stream.of(DynamicTest.dynamicTest("the table was written",
                () -> assertThat(table).as("xen-bench.md in dom0's job directory").exists())));
    }
}
