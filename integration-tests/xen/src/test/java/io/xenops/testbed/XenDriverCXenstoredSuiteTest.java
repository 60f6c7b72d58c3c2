package io.xenops.testbed;

import io.xenops.driver.xen.XenDriverInDom0;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/**
 * The same suite as {@link XenDriverSuiteTest} on the C xenstored: the XenStore channel's watches and
 * {@code @releaseDomain} are xenstored's own work, and the two daemons are separate implementations.
 */
@XenTestbed(xenstored = Xenstored.C_XENSTORED, dom0SuiteTimeoutSeconds = 1200)
class XenDriverCXenstoredSuiteTest {

    @TestFactory
    Stream<DynamicNode> xenDriverInDom0(Dom0Suite dom0) {
        // The suite's own switch, and the crash fixture, which the module's pom does not name.
        String crash = System.getProperty("xenops.repo.root") + "/unikernel/target/test-images/crash/kernel.elf";
        return dom0.withSystemProperty("xenops.xen.dom0", "true")
                .withSystemProperty("xenops.crashKernel", crash)
                .dynamicTests(XenDriverInDom0.class);
    }
}
