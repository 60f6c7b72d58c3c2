package io.xenops.ctl;

import io.xenops.ctl.CliRun.Result;
import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.server.XenStoreServer;
import io.xenops.xenstore.wire.Permissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** xenstore read/write/ls/rm/watch/perms against the project's in-process XenStore, over a unix socket. */
class XenStoreCommandsTest {
    @TempDir
    Path dir;

    private XenStoreServer server;
    private Closeable listening;
    private XenStoreClient direct;
    private String socket;
    /** No daemon listens on port 1: a xenstore command that went to xenopsd would fail with exit 3. */
    private final CliRun cli = CliRun.against("http://127.0.0.1:1");

    @BeforeEach
    void start() throws IOException {
        server = new XenStoreServer();
        Path path = dir.resolve("xenstored.sock");
        listening = server.listen(path);
        socket = path.toString();
        direct = XenStoreClient.open(server.connect());
    }

    @AfterEach
    void stop() throws IOException {
        direct.close();
        listening.close();
        server.close();
    }

    private Result xs(String... args) {
        String[] full = new String[args.length + 3];
        full[0] = "xenstore";
        full[1] = "--socket";
        full[2] = socket;
        System.arraycopy(args, 0, full, 3, args.length);
        return cli.run(full);
    }

    @Test
    void writeThenReadRoundTripsAndEscapesControlCharacters() {
        Result w = xs("write", "/local/domain/5/name", "guest\u001b]0;x");
        Result r = xs("read", "/local/domain/5/name");

        assertThat(w.exitCode()).as(w.toString()).isZero();
        assertThat(w.out()).isEmpty();
        assertThat(direct.blocking().readString("/local/domain/5/name")).isEqualTo("guest\u001b]0;x");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("guest\\x1b]0;x\n");
    }

    @Test
    void readingAMissingNodeIsExitOneWithThePath() {
        Result r = xs("read", "/local/domain/99/name");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(r.err()).isEqualTo("xenopsctl: /local/domain/99/name: no such node\n");
    }

    @Test
    void lsListsChildrenAndLongAddsValuesAndPermissions() {
        direct.blocking().write("/vm/a", "1");
        direct.blocking().write("/vm/b", "two");
        direct.blocking().setPermissions("/vm/b", Permissions.parse("n0 r5"));

        Result plain = xs("ls", "/vm");
        Result details = xs("ls", "-l", "/vm");

        assertThat(plain.exitCode()).as(plain.toString()).isZero();
        assertThat(plain.out().lines().sorted().toList()).containsExactly("a", "b");
        assertThat(details.exitCode()).as(details.toString()).isZero();
        assertThat(details.out().lines().toList()).first().isEqualTo("NAME  VALUE  PERMS");
        assertThat(details.out()).contains("b     two    n0 r5");
    }

    @Test
    void rmRemovesTheSubtree() {
        direct.blocking().write("/vm/a/b", "1");

        Result r = xs("rm", "/vm/a");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(direct.blocking().exists("/vm/a")).isFalse();
        assertThat(direct.blocking().exists("/vm")).isTrue();
    }

    @Test
    void permsPrintsAndSets() {
        direct.blocking().write("/vm/x", "1");

        Result set = xs("perms", "/vm/x", "b7", "r0");
        Result get = xs("perms", "/vm/x");

        assertThat(set.exitCode()).as(set.toString()).isZero();
        assertThat(direct.blocking().getPermissions("/vm/x").format()).containsExactly("b7", "r0");
        assertThat(get.out()).isEqualTo("b7 r0\n");
    }

    @Test
    void malformedPermissionsAreExitOneAndChangeNothing() {
        direct.blocking().write("/vm/x", "1");

        Result r = xs("perms", "/vm/x", "q5");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(r.err()).startsWith("xenopsctl: /vm/x: ");
        assertThat(direct.blocking().getPermissions("/vm/x").format()).containsExactly("n0");
    }

    @Test
    void watchPrintsTheFirstEventThenChangesUntilTheCount() throws Exception {
        direct.blocking().write("/vm/w", "0");
        CompletableFuture<Result> watching = CompletableFuture.supplyAsync(() -> xs("watch", "/vm/w", "--count", "2"));

        // The watch fires once on registration; writes until it has heard one more (it may register late).
        for (int i = 0; !watching.isDone() && i < 200; i++) {
            direct.blocking().write("/vm/w/child", Integer.toString(i));
            Thread.sleep(25);
        }
        Result r = watching.get(10, TimeUnit.SECONDS);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).isEqualTo("/vm/w");
        assertThat(lines.get(1)).isIn("/vm/w", "/vm/w/child");
    }

    @Test
    void noXenstoredIsExitThreeNamingTheSocket() {
        String missing = dir.resolve("none.sock").toString();

        Result r = cli.run("xenstore", "read", "/", "--socket", missing);

        assertThat(r.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.err()).startsWith("xenopsctl: cannot reach xenstored at " + missing + " (");
    }

    @Test
    void withoutSocketItLooksWhereXenstoredPathSays() {
        direct.blocking().write("/vm/env", "found");

        Result r = CliRun.against("http://127.0.0.1:1").env("XENSTORED_PATH", socket).run("xenstore", "read", "/vm/env");
        Result none = CliRun.against("http://127.0.0.1:1").env("XENSTORED_PATH", socket + ".gone")
                .run("xenstore", "read", "/vm/env");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("found\n");
        assertThat(none.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(none.err()).startsWith("xenopsctl: cannot reach xenstored at " + socket + ".gone (");
    }

    @Test
    void watchRejectsAZeroCount() {
        Result r = xs("watch", "/vm", "--count", "0");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("--count must be at least 1");
    }
}
