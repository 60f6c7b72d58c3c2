package io.xenops.testbed;

import io.xenops.driver.xen.XenDriverInDom0;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/**
 * The Xen driver's dom0 suite (domain-builder's {@link XenDriverInDom0}) on real Xen 4.17 with Debian's
 * default oxenstored: hypercalls, xl builds, the XenStore and console channels with the real guest runtime
 * (PVH and PV), adopt after a restart, and exit and crash detection through {@code @releaseDomain}.
 */
@XenTestbed(xenstored = Xenstored.OXENSTORED, dom0SuiteTimeoutSeconds = 1200)
class XenDriverSuiteTest {

    @TestFactory
    Stream<DynamicNode> xenDriverInDom0(Dom0Suite dom0) {
        // The suite's own switch, and the crash fixture, which the module's pom does not name.
        String crash = System.getProperty("xenops.repo.root") + "/unikernel/target/test-images/crash/kernel.elf";
        return dom0.withSystemProperty("xenops.xen.dom0", "true")
                .withSystemProperty("xenops.crashKernel", crash)
                .dynamicTests(XenDriverInDom0.class);
    }
}
