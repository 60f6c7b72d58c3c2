package io.xenops.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import io.xenops.testbed.dom0.InDom0Classes;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The same XenStore checks against the C xenstored, selected through /etc/default/xen. */
@XenTestbed(xenstored = Xenstored.C_XENSTORED)
class CXenstoredSuiteTest {

    @Test
    void runsTheCXenstored(NestedXen xen) {
        CommandResult r = xen.run("pgrep -x xenstored && ! pgrep -x oxenstored && xenstore-read /local/domain/0/name",
                Duration.ofSeconds(60));
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout()).endsWith("Domain-0\n");
    }

    @TestFactory
    Stream<DynamicNode> xenstoreInDom0(Dom0Suite dom0) {
        return dom0.dynamicTests(InDom0Classes.XENSTORE.toArray(Class<?>[]::new));
    }

    @TestFactory
    Stream<DynamicNode> xenstoreClientConformance(Dom0Suite dom0) {
        return XenStoreConformance.against(dom0, "/run/xenstored/socket", Xenstored.C_XENSTORED);
    }
}
