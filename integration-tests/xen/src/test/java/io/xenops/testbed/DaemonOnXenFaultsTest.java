package io.xenops.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import io.xenops.testbed.dom0.XenopsdFaultsInDom0;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * xenopsd in dom0 through faults (issue #5's kill -9 recovery, issue #9's xenstored restart): the
 * scenarios are {@link XenopsdFaultsInDom0}, in their own boot because every daemon start under TCG costs
 * minutes; then the shell checks that nothing is left behind.
 */
@XenTestbed(xenstored = Xenstored.OXENSTORED, dom0SuiteTimeoutSeconds = 1500)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DaemonOnXenFaultsTest {

    @TestFactory
    @Order(1)
    Stream<DynamicNode> faultsInDom0(Dom0Suite dom0) {
        return dom0.dynamicTests(XenopsdFaultsInDom0.class);
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
