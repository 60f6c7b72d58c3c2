package io.xenops.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import io.xenops.testbed.dom0.XenopsdInDom0;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * xenopsd end to end on real Xen (issue #5's integration tests and benchmark, issue #9's Xen faults):
 * the daemon runs in dom0 of the nested testbed as its own process, driven over its REST API and with
 * xenopsctl, on Debian's default oxenstored. One boot and one dom0 JVM for all of it, and one daemon that
 * goes through every scenario in turn ({@link XenopsdInDom0}): each JVM start in dom0 costs a minute or
 * more under TCG, so the daemon starts only where a scenario needs it (first start, after {@code kill -9},
 * after xenstored's restart). The benchmark ({@link io.xenops.testbed.dom0.XenSpawnBenchInDom0}, 10 samples
 * a series here) runs on that daemon; its table is copied to {@code target/xen-bench.md} with the host's load.
 * Then a shell check that nothing of the daemon is left in dom0.
 */
@XenTestbed(xenstored = Xenstored.OXENSTORED, dom0SuiteTimeoutSeconds = 2400)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DaemonOnXenSuiteTest {

    @TestFactory
    @Order(1)
    Stream<DynamicNode> daemonInDom0(Dom0Suite dom0) throws IOException {
        return XenBenchTable.runAndCopy(dom0, XenopsdInDom0.class, "xen-bench.md", "the benchmark table was written",
                List.of("API → running", "xl unpause"));
    }

    /** After the suites stopped their daemons: only dom0 in xl, and no xenopsd process. */
    @Test
    @Order(2)
    void nothingOfTheDaemonIsLeftInDom0(NestedXen xen) {
        CommandResult r = xen.run("xl list; echo ---; pgrep -af io.xenops.daemon.Main || true; echo ---;"
                + " ls /var/log/xen/console/ | grep xenops- || true", Duration.ofSeconds(120));
        assertThat(r.exitCode()).as(r.describe()).isZero();
        String[] parts = r.stdout().split("---\n", -1);
        assertThat(parts[0].lines().filter(l -> l.startsWith("xenops-")).toList()).as("xenops domains left:\n%s", r.stdout()).isEmpty();
        assertThat(parts[1].strip()).as("xenopsd processes left").isEmpty();
        assertThat(parts[2].strip()).as("console logs left").isEmpty();
    }
}
