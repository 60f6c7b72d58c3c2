package io.xenops.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import io.xenops.testbed.dom0.XenopsdInDom0;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * xenopsd end to end on real Xen (issue #5's integration tests, issue #9's Xen faults): the daemon runs in
 * dom0 of the nested testbed as its own process, driven over its REST API and with xenopsctl, on
 * Debian's default oxenstored. The scenarios are {@link XenopsdInDom0}; this class boots Xen once for
 * them and then checks from the shell that nothing is left behind.
 */
@XenTestbed(xenstored = Xenstored.OXENSTORED, dom0SuiteTimeoutSeconds = 1500)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DaemonOnXenSuiteTest {

    @TestFactory
    @Order(1)
    Stream<DynamicNode> daemonInDom0(Dom0Suite dom0) {
        return dom0.dynamicTests(XenopsdInDom0.class);
    }

    /** After the suite stopped its daemon: only dom0 in xl, and no xenopsd process. */
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
