package io.xenops.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import io.xenops.testbed.dom0.XenopsdInDom0;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
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
        String load0 = Files.readString(Path.of("/proc/loadavg")).strip();
        int job = dom0.xen().nextJobNumber();
        List<DynamicNode> nodes = dom0.dynamicTests(XenopsdInDom0.class).toList();
        String load1 = Files.readString(Path.of("/proc/loadavg")).strip();
        Path table = dom0.xen().jobDir(job).resolve("xen-bench.md");
        Path out = Path.of(System.getProperty("xenops.testbed.work", "target/xen-testbed")).resolveSibling("xen-bench.md");
        if (Files.exists(table)) {
            String text = "Host /proc/loadavg " + load0 + " before, " + load1 + " after (the host runs QEMU TCG for the whole"
                    + " nested Xen).\n" + Files.readString(table);
            Files.writeString(out, text);
            System.out.println(text);
        }
        return Stream.concat(nodes.stream(), Stream.of(DynamicTest.dynamicTest("the benchmark table was written", () -> {
            assertThat(table).as("xen-bench.md in dom0's job directory").exists();
            try {
                assertThat(Files.readString(table)).contains("API → running").contains("xl unpause");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        })));
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
