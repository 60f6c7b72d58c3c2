package io.xenops.testbed;


import io.xenops.testbed.dom0.XenSpawnBenchInDom0;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
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
        Dom0Suite suite = dom0.withTimeout(Duration.ofSeconds(6900));
        for (String p : List.of("xenops.bench.samples", "xenops.bench.cold")) {
            if (System.getProperty(p) != null) suite = suite.withSystemProperty(p, System.getProperty(p));
        }
        return XenBenchTable.runAndCopy(suite, XenSpawnBenchInDom0.class, "xen-bench-long.md", "the table was written", List.of());
    }
}
