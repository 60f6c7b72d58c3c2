package io.xenops.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import io.xenops.driver.xen.XenDriverInDom0;
import io.xenops.testbed.dom0.InDom0Classes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

    /**
     * The XenStore wire checks, and the Xen driver's XenStore channel (with the stress test that hunts a lost
     * wakeup: the guest once missed its first ARGS here) and exit detection on this xenstored:
     * its watches and {@code @releaseDomain} are the daemon's own work, a separate implementation from
     * oxenstored. The rest of {@link XenDriverInDom0} (PV, the console channel) does not depend on the
     * xenstored and runs in {@link NestedXenSuiteTest}.
     */
    @TestFactory
    Stream<DynamicNode> xenstoreInDom0(Dom0Suite dom0) {
        List<Class<?>> classes = new ArrayList<>(InDom0Classes.XENSTORE);
        classes.add(XenDriverInDom0.class);
        String suite = XenDriverInDom0.class.getName();
        return XenDriverSuite.properties(dom0).withTimeout(Duration.ofMinutes(25)).dynamicTests(classes, List.of(
                suite + "#hypercallsReachXen417",
                suite + "#xenStoreChannelIsTheDefaultOnPvhWithArgsPauseAdoptDestroy",
                suite + "#xenStoreChannelStressNoCommandIsMissed",
                suite + "#xenStoreChannelOutlastsTheGuestsNodeQuota",
                suite + "#exitAndCrashAreSeenThroughReleaseDomain"));
    }

    @TestFactory
    Stream<DynamicNode> xenstoreClientConformance(Dom0Suite dom0) {
        return XenStoreConformance.against(dom0, "/run/xenstored/socket", Xenstored.C_XENSTORED);
    }
}
