package io.xenops.xenstore.conformance;

import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.server.XenStoreServer;
import io.xenops.xenstore.transport.Transport;
import io.xenops.xenstore.transport.UnixSocketTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shared conformance suite against our own server, both in memory and over a real unix socket
 * (the same suite runs against oxenstored and C xenstored inside nested Xen).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InProcessConformanceTest {

    private final ConformanceSuite suite = new ConformanceSuite();
    private XenStoreServer server;
    private Closeable listener;
    private Path dir;

    @BeforeAll
    void start() throws IOException {
        server = new XenStoreServer();
        dir = Files.createTempDirectory("xs-conformance");
        listener = server.listen(dir.resolve("socket"));
    }

    @AfterAll
    void stop() throws IOException {
        listener.close();
        server.close();
        Files.deleteIfExists(dir);
    }

    @TestFactory
    Stream<DynamicTest> inMemory() {
        return tests(new InProcessTarget(server));
    }

    @TestFactory
    Stream<DynamicTest> overUnixSocket() {
        Path socket = dir.resolve("socket");
        ConformanceTarget target = new ConformanceTarget() {
            public String name() {
                return "in-process server over " + socket;
            }

            public XenStoreClient connect() throws IOException {
                return XenStoreClient.connect(socket);
            }

            public Transport openRaw() throws IOException {
                return UnixSocketTransport.connect(socket);
            }

            public XenStoreClient connectAsDomain(int domid) {
                return XenStoreClient.open(server.connectAsDomain(domid));
            }

            public Set<Capability> capabilities() {
                return EnumSet.allOf(Capability.class);
            }
        };
        return tests(target);
    }

    private Stream<DynamicTest> tests(ConformanceTarget target) {
        return suite.checks().stream().map(check -> DynamicTest.dynamicTest(check.name(), () -> {
            CheckResult r = suite.run(target, check);
            assertThat(r.status()).as(r.detail()).isEqualTo(CheckResult.Status.PASSED);
        }));
    }
}
