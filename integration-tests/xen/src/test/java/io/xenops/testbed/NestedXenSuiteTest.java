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

/**
 * The testbed's proof, on Debian's default oxenstored: the command channel itself, then XenStore,
 * hypercalls and xl domain lifecycles from Java 25 inside dom0. One boot for the whole class.
 *
 * <p>Also xenstore-client's conformance suite, with oxenstored's own answers where it differs from
 * C xenstored ({@code --server oxenstored}; docs/xenstore.md).
 */
@XenTestbed(xenstored = Xenstored.OXENSTORED)
class NestedXenSuiteTest {

    @Test
    void commandChannelCarriesExitStatusAndBothStreams(NestedXen xen) {
        CommandResult r = xen.run("echo out; echo err >&2; exit 3", Duration.ofSeconds(60));
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(3);
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
    }

    @Test
    void dom0KillsACommandAtItsTimeout(NestedXen xen) {
        CommandResult r = xen.run("sleep 120", Duration.ofSeconds(2));
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(124);
        assertThat(r.elapsed()).isLessThan(Duration.ofSeconds(60));
    }

    @Test
    void runsTheChosenXenstoredAndXenconsoled(NestedXen xen) {
        CommandResult r = xen.run("pgrep -x oxenstored && ! pgrep -x xenstored && pgrep -x xenconsoled"
                + " && xenstore-read /local/domain/0/name", Duration.ofSeconds(60));
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout()).endsWith("Domain-0\n");
    }

    @Test
    void hostSharesAreReadOnly(NestedXen xen) {
        String root = System.getProperty("xenops.repo.root");
        CommandResult r = xen.run("test -d '" + root + "' && ! touch '" + root + "/.dom0-was-here'", Duration.ofSeconds(60));
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stderr()).contains("Read-only file system");
    }

    /**
     * The testbed's own in-dom0 classes and the Xen driver's dom0 suite (domain-builder's
     * {@link XenDriverInDom0}: XenStore and console channels with the real guest, PVH and PV, adopt, exit
     * and crash through {@code @releaseDomain}) in one dom0 JVM, since each JVM start costs tens of
     * seconds under TCG.
     */
    @TestFactory
    Stream<DynamicNode> inDom0(Dom0Suite dom0) {
        // Seven xl builds plus the JVM start: the testbed classes alone went over the default 10 minutes
        // twice at load 22 to 32 on the shared 2 cores (xl create -p alone took 24 to 32 s there).
        List<Class<?>> classes = new ArrayList<>(InDom0Classes.ALL);
        classes.add(XenDriverInDom0.class);
        return XenDriverSuite.properties(dom0).withTimeout(Duration.ofMinutes(35)).dynamicTests(classes, List.of());
    }

    @TestFactory
    Stream<DynamicNode> xenstoreClientConformance(Dom0Suite dom0) {
        return XenStoreConformance.against(dom0, "/run/xenstored/socket", Xenstored.OXENSTORED);
    }
}
