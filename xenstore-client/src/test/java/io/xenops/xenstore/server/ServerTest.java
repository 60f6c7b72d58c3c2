package io.xenops.xenstore.server;

import io.xenops.xenstore.client.BlockingXenStore;
import io.xenops.xenstore.client.Watch;
import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.error.ConnectionClosedException;
import io.xenops.xenstore.error.ErrorCode;
import io.xenops.xenstore.error.PermissionDeniedException;
import io.xenops.xenstore.error.XenStoreErrorException;
import io.xenops.xenstore.wire.Access;
import io.xenops.xenstore.wire.DirectoryChunk;
import io.xenops.xenstore.wire.Permission;
import io.xenops.xenstore.wire.Permissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Server behaviour beyond the shared conformance suite (things real xenstored only shows to guests). */
@Timeout(30)
class ServerTest {

    private final XenStoreServer server = new XenStoreServer(ServerOptions.defaults().withQuota("watches", 2));
    private final List<XenStoreClient> clients = new ArrayList<>();

    private XenStoreClient dom0() {
        XenStoreClient c = XenStoreClient.open(server.connect());
        clients.add(c);
        return c;
    }

    private XenStoreClient guest(int domid) {
        XenStoreClient c = XenStoreClient.open(server.connectAsDomain(domid));
        clients.add(c);
        return c;
    }

    @AfterEach
    void stop() {
        clients.forEach(XenStoreClient::close);
        server.close();
    }

    private static ErrorCode code(CompletableFuture<?> f) {
        try {
            f.get(5, TimeUnit.SECONDS);
            return null;
        } catch (Exception e) {
            Throwable c = e.getCause();
            return c instanceof XenStoreErrorException x ? x.code() : ErrorCode.UNKNOWN;
        }
    }

    @Test
    void startsWithTheUsualSkeleton() {
        BlockingXenStore xs = dom0().blocking();
        assertThat(xs.directory("/")).containsExactly("local", "tool");
        assertThat(xs.directory("/local")).containsExactly("domain");
        assertThat(xs.getPermissions("/").format()).containsExactly("n0");
    }

    @Test
    void directoryPartChunksCoverTheWholeListWithOneGeneration() throws Exception {
        XenStoreClient xs = dom0();
        List<CompletableFuture<Void>> w = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            String n = "entry-number-" + i;
            names.add(n);
            w.add(xs.mkdir("/big/" + n));
        }
        CompletableFuture.allOf(w.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        assertThat(code(xs.request(new io.xenops.xenstore.wire.Request.Directory("/big")))).isEqualTo(ErrorCode.E2BIG);
        List<String> got = new ArrayList<>();
        long offset = 0;
        long gen = -1;
        int chunks = 0;
        while (true) {
            DirectoryChunk c = xs.directoryPart("/big", offset).get(5, TimeUnit.SECONDS);
            chunks++;
            if (gen >= 0) {
                assertThat(c.generation()).isEqualTo(gen);
            }
            gen = c.generation();
            got.addAll(c.children());
            if (c.last()) {
                break;
            }
            offset += c.byteLength();
        }
        assertThat(chunks).isGreaterThan(1);
        assertThat(got).isEqualTo(names);
        // Past the end: an empty, final chunk. Inside a name: EINVAL.
        assertThat(xs.directoryPart("/big", 1_000_000).get(5, TimeUnit.SECONDS).last()).isTrue();
        assertThat(code(xs.directoryPart("/big", 3))).isEqualTo(ErrorCode.EINVAL);
        // A change to the list changes the generation.
        xs.mkdir("/big/one-more").get(5, TimeUnit.SECONDS);
        assertThat(xs.directoryPart("/big", 0).get(5, TimeUnit.SECONDS).generation()).isNotEqualTo(gen);
    }

    @Test
    void watchEventsRespectReadPermission() throws Exception {
        BlockingXenStore root = dom0().blocking();
        root.write("/shared/open", "x");
        root.write("/shared/closed", "x");
        root.setPermissions("/shared", Permissions.owner(0, Access.READ));
        root.setPermissions("/shared/open", Permissions.owner(0, Access.READ));
        root.setPermissions("/shared/closed", Permissions.owner(0, Access.NONE));
        Watch w = guest(5).watch("/shared").get(5, TimeUnit.SECONDS);
        assertThat(w.take(Duration.ofSeconds(5)).path()).isEqualTo("/shared");
        root.write("/shared/closed", "y");
        root.write("/shared/open", "y");
        assertThat(w.take(Duration.ofSeconds(5)).path()).isEqualTo("/shared/open");
        assertThat(w.poll(Duration.ofMillis(100))).isNull();
    }

    @Test
    void watchQuotaAppliesToGuestsOnly() throws Exception {
        XenStoreClient g = guest(6);
        g.watch("/a").get(5, TimeUnit.SECONDS);
        g.watch("/b").get(5, TimeUnit.SECONDS);
        assertThat(code(g.watch("/c"))).isEqualTo(ErrorCode.E2BIG);
        XenStoreClient d = dom0();
        for (int i = 0; i < 5; i++) {
            d.watch("/d" + i).get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void guestCannotCreateUnderAReadOnlyParent() {
        BlockingXenStore root = dom0().blocking();
        root.mkdir("/ro");
        root.setPermissions("/ro", Permissions.of(new Permission(0, Access.NONE), new Permission(7, Access.READ)));
        assertThatThrownBy(() -> guest(7).blocking().write("/ro/x/y", "v")).isInstanceOf(PermissionDeniedException.class);
        assertThat(root.exists("/ro/x")).isFalse();
        root.setPermissions("/ro", Permissions.of(new Permission(0, Access.NONE), new Permission(7, Access.WRITE)));
        guest(7).blocking().write("/ro/x/y", "v");
        assertThat(root.getPermissions("/ro/x/y").owner()).isEqualTo(7);
        assertThat(root.getPermissions("/ro/x").owner()).isEqualTo(7);
    }

    @Test
    void guestValueSizeQuota() {
        BlockingXenStore root = dom0().blocking();
        root.mkdir("/local/domain/8");
        root.setPermissions("/local/domain/8", Permissions.owner(8, Access.NONE));
        BlockingXenStore g = guest(8).blocking();
        g.write("/local/domain/8/ok", "x".repeat(2048));
        assertThatThrownBy(() -> g.write("/local/domain/8/big", "x".repeat(2049)))
                .isInstanceOfSatisfying(XenStoreErrorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.E2BIG));
        root.write("/local/domain/8/dom0-may", "x".repeat(3000));
    }

    @Test
    void targetDomainActsWithItsTargetsRights() throws Exception {
        server.introduceDomain(20);
        server.introduceDomain(21);
        XenStoreClient d = dom0();
        BlockingXenStore root = d.blocking();
        root.write("/vm21/private", "p");
        root.setPermissions("/vm21/private", Permissions.owner(21, Access.NONE));
        XenStoreClient dm = guest(20);
        assertThat(code(dm.read("/vm21/private"))).isEqualTo(ErrorCode.EACCES);
        d.setTarget(20, 21).get(5, TimeUnit.SECONDS);
        assertThat(dm.readString("/vm21/private").get(5, TimeUnit.SECONDS)).isEqualTo("p");
        assertThat(code(d.setTarget(20, 99))).isEqualTo(ErrorCode.ENOENT);
    }

    @Test
    void releaseDropsTheDomainsConnections() throws Exception {
        server.introduceDomain(30);
        XenStoreClient g = guest(30);
        g.getDomainPath(30).get(5, TimeUnit.SECONDS);
        XenStoreClient d = dom0();
        Watch released = d.watch("@releaseDomain").get(5, TimeUnit.SECONDS);
        released.take(Duration.ofSeconds(5));
        server.releaseDomain(30);
        assertThat(released.take(Duration.ofSeconds(5)).path()).isEqualTo("@releaseDomain");
        assertThat(g.connection().closedFuture()).failsWithin(Duration.ofSeconds(5))
                .withThrowableThat().withCauseInstanceOf(ConnectionClosedException.class);
        assertThat(code(d.resumeDomain(30))).isEqualTo(ErrorCode.ENOENT);
    }

    @Test
    void introduceRejectsDom0AndReservedIdsAndRepeatsQuietly() throws Exception {
        XenStoreClient d = dom0();
        assertThat(code(d.introduceDomain(0, 1, 1))).isEqualTo(ErrorCode.EINVAL);
        assertThat(code(d.introduceDomain(0x7ff0, 1, 1))).isEqualTo(ErrorCode.EINVAL);
        Watch intro = d.watch("@introduceDomain").get(5, TimeUnit.SECONDS);
        intro.take(Duration.ofSeconds(5));
        d.introduceDomain(40, 1, 1).get(5, TimeUnit.SECONDS);
        intro.take(Duration.ofSeconds(5));
        d.introduceDomain(40, 1, 1).get(5, TimeUnit.SECONDS);
        assertThat(intro.poll(Duration.ofMillis(100))).isNull();
        assertThat(code(d.setDomainFeatures(40, 1))).isEqualTo(ErrorCode.EBUSY);
        assertThat(code(d.setDomainFeatures(41, 1L << 20))).isEqualTo(ErrorCode.EINVAL);
        d.resumeDomain(40).get(5, TimeUnit.SECONDS);
    }

    @Test
    void controlCommands() throws Exception {
        XenStoreClient d = dom0();
        assertThat(d.control("help").get(5, TimeUnit.SECONDS)).contains("print");
        assertThat(d.control("print", "hello").get(5, TimeUnit.SECONDS)).isEqualTo("OK");
        assertThat(code(d.control("frobnicate"))).isEqualTo(ErrorCode.EINVAL);
        assertThat(code(guest(3).control("help"))).isEqualTo(ErrorCode.EACCES);
    }

    @Test
    void guestTransactionQuota() throws Exception {
        XenStoreClient g = guest(9);
        for (int i = 0; i < 10; i++) {
            g.startTransaction().get(5, TimeUnit.SECONDS);
        }
        assertThat(code(g.startTransaction())).isEqualTo(ErrorCode.ENOSPC);
    }

    @Test
    void nestedTransactionStartIsEbusy() throws Exception {
        XenStoreClient d = dom0();
        int tx = d.startTransaction().get(5, TimeUnit.SECONDS).id();
        assertThat(code(d.connection().send(new io.xenops.xenstore.wire.Request.TransactionStart(), tx)))
                .isEqualTo(ErrorCode.EBUSY);
    }

    @Test
    void transactionRemovalAndRecreationCommitAtomically() throws Exception {
        XenStoreClient d = dom0();
        BlockingXenStore xs = d.blocking();
        xs.write("/t/a/b", "1");
        Watch w = dom0().watch("/t").get(5, TimeUnit.SECONDS);
        w.take(Duration.ofSeconds(5));
        xs.transaction(tx -> {
            tx.rm("/t/a");
            tx.write("/t/a/c", "2");
            tx.mkdir("/t/d");
            return null;
        });
        assertThat(xs.directory("/t/a")).containsExactly("c");
        assertThat(xs.exists("/t/a/b")).isFalse();
        assertThat(xs.directory("/t")).containsExactlyInAnyOrder("a", "d");
        List<String> events = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            events.add(w.take(Duration.ofSeconds(5)).path());
        }
        assertThat(events).containsExactly("/t/a", "/t/a/c", "/t/d");
    }

    @Test
    void disconnectingClientLosesItsWatchesAndTransactions() throws Exception {
        XenStoreClient gone = dom0();
        gone.watch("/x").get(5, TimeUnit.SECONDS);
        gone.startTransaction().get(5, TimeUnit.SECONDS);
        assertThat(server.connectionCount()).isEqualTo(1);
        gone.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server.connectionCount() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(server.connectionCount()).isZero();
        dom0().blocking().write("/x", "still works");
    }

    @Test
    void serverCloseEndsClientConnections() {
        XenStoreClient c = dom0();
        server.close();
        assertThat(c.connection().closedFuture()).failsWithin(Duration.ofSeconds(5));
        assertThatThrownBy(server::connect).isInstanceOf(IllegalStateException.class);
    }
}
