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
                // Xen's xenstore-* tools (C libxenstore) join in where xenstore-utils is installed.
                Set<Capability> caps = EnumSet.of(Capability.DOMAIN_CONNECTIONS, Capability.FAKE_DOMAINS,
                        Capability.QUOTA_AND_FEATURE_REQUESTS);
                if (toolsInstalled()) {
                    caps.add(Capability.XENSTORE_TOOLS);
                }
                return caps;
            }

            public ServerProfile profile() {
                return ServerProfile.XENOPS;
            }

            public java.util.Map<String, String> toolEnvironment() {
                return java.util.Map.of("XENSTORED_PATH", socket.toString());
            }
        };
        return tests(target);
    }

    static boolean toolsInstalled() {
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.of(path.split(java.io.File.pathSeparator))
                .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, "xenstore-read")));
    }

    /** Only the checks the target can run: a skipped check is not a test that could fail. */
    private Stream<DynamicTest> tests(ConformanceTarget target) {
        return suite.checks().stream().filter(ch -> target.capabilities().containsAll(ch.needs()))
                .map(check -> DynamicTest.dynamicTest(check.name(), () -> {
            CheckResult r = suite.run(target, check);
            assertThat(r.status()).as(r.detail()).isEqualTo(CheckResult.Status.PASSED);
        }));
    }
}
