package io.xenops.testbed.dom0;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Runs inside dom0: Java 25 speaks the XenStore wire protocol to the real xenstored. */
@Timeout(60) // a lost reply or watch event must fail, not hang the suite
class XenStoreWireInDom0 {

    private static final Path SOCKET = Path.of("/run/xenstored/socket");
    private static final String BASE = "/xenops-testbed";

    private RawXenStore xs;

    @BeforeEach
    void connect() throws Exception {
        xs = new RawXenStore(SOCKET);
    }

    @AfterEach
    void cleanUp() throws Exception {
        try {
            xs.rm(0, BASE);
        } catch (RawXenStore.XsError ignored) {
            // Already gone.
        }
        xs.close();
    }

    @Test
    void dom0IsKnownToXenstored() throws Exception {
        assertThat(xs.domainPath(0)).isEqualTo("/local/domain/0");
        // Written at boot by xen-init-dom0, so this proves the toolstack's view, not only our writes.
        assertThat(xs.read(0, "/local/domain/0/name")).isEqualTo("Domain-0");
    }

    @Test
    void writeReadDirectoryRemove() throws Exception {
        xs.write(0, BASE + "/a", "hello from java 25");
        xs.write(0, BASE + "/b", "");
        assertThat(xs.read(0, BASE + "/a")).isEqualTo("hello from java 25");
        assertThat(xs.read(0, BASE + "/b")).isEmpty();
        assertThat(xs.directory(0, BASE)).containsExactlyInAnyOrder("a", "b");
        xs.rm(0, BASE + "/a");
        assertThatThrownBy(() -> xs.read(0, BASE + "/a"))
                .isInstanceOfSatisfying(RawXenStore.XsError.class, e -> assertThat(e.errno).isEqualTo("ENOENT"));
    }

    @Test
    void transactionIsolatesUntilCommit() throws Exception {
        xs.write(0, BASE + "/tx", "before");
        int tx = xs.transactionStart();
        assertThat(tx).isPositive();
        xs.write(tx, BASE + "/tx", "inside");
        assertThat(xs.read(tx, BASE + "/tx")).isEqualTo("inside");
        try (RawXenStore other = new RawXenStore(SOCKET)) {
            assertThat(other.read(0, BASE + "/tx")).isEqualTo("before");
        }
        xs.transactionEnd(tx, true);
        assertThat(xs.read(0, BASE + "/tx")).isEqualTo("inside");
    }

    @Test
    void watchFiresOnRegistrationAndOnWrite() throws Exception {
        xs.write(0, BASE + "/watched", "0");
        xs.watch(BASE + "/watched", "tok");
        // xenstored fires every new watch once at once, then on each change under the path.
        assertThat(xs.nextEvent().parts()).containsExactly(BASE + "/watched", "tok");
        try (RawXenStore writer = new RawXenStore(SOCKET)) {
            writer.write(0, BASE + "/watched/child", "1");
        }
        assertThat(xs.nextEvent().parts()).containsExactly(BASE + "/watched/child", "tok");
    }
}
