package io.xenops.xenstore.conformance;

import io.xenops.xenstore.client.BlockingXenStore;
import io.xenops.xenstore.client.RetryPolicy;
import io.xenops.xenstore.client.Transaction;
import io.xenops.xenstore.client.Watch;
import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.error.ErrorCode;
import io.xenops.xenstore.error.InvalidRequestException;
import io.xenops.xenstore.error.NoSuchTransactionException;
import io.xenops.xenstore.error.XenStoreErrorException;
import io.xenops.xenstore.transport.Transport;
import io.xenops.xenstore.wire.Access;
import io.xenops.xenstore.wire.Frame;
import io.xenops.xenstore.wire.FrameDecoder;
import io.xenops.xenstore.wire.FrameEncoder;
import io.xenops.xenstore.wire.Limits;
import io.xenops.xenstore.wire.MessageType;
import io.xenops.xenstore.wire.Payloads;
import io.xenops.xenstore.wire.Permission;
import io.xenops.xenstore.wire.Permissions;
import io.xenops.xenstore.wire.ReplyDecoder;
import io.xenops.xenstore.wire.Request;
import io.xenops.xenstore.wire.WatchEvent;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * One set of behavioural checks for any XenStore server: ours in-process, and oxenstored or C
 * xenstored inside Xen. Each check states one rule of docs/misc/xenstore.txt in terms both real
 * implementations are expected to share, runs in its own scratch subtree, and cleans up after itself.
 * Run it with {@link #run} (plain Java) or through JUnit dynamic tests.
 */
public final class ConformanceSuite {

    /** A check's body. */
    @FunctionalInterface
    public interface Body {
        void run(ConformanceContext c) throws Exception;
    }

    /** One named check and the capabilities it needs. */
    public record Check(String name, Set<Capability> needs, Body body) {
    }

    private final String prefix;
    private final List<Check> checks = new ArrayList<>();

    /** @param prefix where scratch subtrees go, e.g. {@code /xenops-conformance} */
    public ConformanceSuite(String prefix) {
        this.prefix = prefix;
        register();
    }

    public ConformanceSuite() {
        this("/xenops-conformance");
    }

    public List<Check> checks() {
        return List.copyOf(checks);
    }

    // ------------------------------------------------------------------ running

    /** Runs one check on a target: scratch subtree created, body run, subtree removed. */
    public CheckResult run(ConformanceTarget target, Check check) {
        long start = System.nanoTime();
        if (!target.capabilities().containsAll(check.needs())) {
            Set<Capability> missing = new HashSet<>(check.needs());
            missing.removeAll(target.capabilities());
            return new CheckResult(check.name(), CheckResult.Status.SKIPPED, "target lacks " + missing, Duration.ZERO);
        }
        String root = prefix + "/" + Long.toHexString(System.nanoTime()) + "-" + check.name();
        try (ConformanceContext c = new ConformanceContext(target, root)) {
            try {
                c.xs().mkdir(root);
                check.body().run(c);
                return new CheckResult(check.name(), CheckResult.Status.PASSED, "", since(start));
            } catch (Throwable t) {
                String d = t instanceof ConformanceContext.ConformanceFailure ? t.getMessage() : t.toString();
                return new CheckResult(check.name(), CheckResult.Status.FAILED, d, since(start));
            } finally {
                cleanup(target, root);
            }
        }
    }

    private void cleanup(ConformanceTarget target, String root) {
        try (XenStoreClient xs = target.connect()) {
            xs.blocking(target.patience()).rm(root);
            if (xs.blocking(target.patience()).directory(prefix).isEmpty()) {
                xs.blocking(target.patience()).rm(prefix);
            }
        } catch (Exception ignored) {
            // A failed cleanup must not hide the check's own result.
        }
    }

    /** Runs every check whose name matches {@code only}, printing one line each and a summary. */
    public List<CheckResult> run(ConformanceTarget target, Pattern only, PrintStream out) {
        List<CheckResult> results = new ArrayList<>();
        out.println("XenStore conformance against " + target.name());
        for (Check check : checks) {
            if (!only.matcher(check.name()).find()) {
                continue;
            }
            CheckResult r = run(target, check);
            results.add(r);
            String line = switch (r.status()) {
                case PASSED -> "PASS " + r.check() + " (" + r.took().toMillis() + " ms)";
                case FAILED -> "FAIL " + r.check() + ": " + r.detail();
                case SKIPPED -> "SKIP " + r.check() + ": " + r.detail();
            };
            out.println(line);
        }
        long passed = results.stream().filter(r -> r.status() == CheckResult.Status.PASSED).count();
        long failed = results.stream().filter(r -> r.status() == CheckResult.Status.FAILED).count();
        long skipped = results.stream().filter(r -> r.status() == CheckResult.Status.SKIPPED).count();
        out.println(passed + " passed, " + failed + " failed, " + skipped + " skipped");
        return results;
    }

    private static Duration since(long start) {
        return Duration.ofNanos(System.nanoTime() - start);
    }

    private void add(String name, Body body) {
        checks.add(new Check(name, Set.of(), body));
    }

    private void add(String name, Set<Capability> needs, Body body) {
        checks.add(new Check(name, needs, body));
    }

    // ------------------------------------------------------------------ the checks

    private void register() {
        nodes();
        permissions();
        watches();
        transactions();
        protocol();
        domains();
        guests();
        tools();
    }

    private void nodes() {
        add("write-read-roundtrip", c -> {
            BlockingXenStore xs = c.xs();
            xs.write(c.path("a"), "hello");
            c.equal("hello", xs.readString(c.path("a")), "read after write");
            byte[] binary = {0, 1, (byte) 0xff, 0, 'x', 0};
            xs.write(c.path("bin"), binary);
            c.check(Arrays.equals(binary, xs.read(c.path("bin"))), "binary value with NULs survives");
            xs.write(c.path("empty"), "");
            c.equal("", xs.readString(c.path("empty")), "empty value");
        });
        add("write-creates-parents", c -> {
            BlockingXenStore xs = c.xs();
            xs.write(c.path("p/q/r"), "v");
            c.equal("", xs.readString(c.path("p")), "created parent has an empty value");
            c.equal(List.of("q"), xs.directory(c.path("p")), "parent lists the child");
            c.equal(List.of("r"), xs.directory(c.path("p/q")), "intermediate lists the leaf");
        });
        add("read-missing-is-enoent", c ->
                c.expectError(ErrorCode.ENOENT, c.client().read(c.path("missing"))));
        add("directory-missing-is-enoent", c ->
                c.expectError(ErrorCode.ENOENT, c.client().directory(c.path("missing"))));
        add("mkdir-creates-and-keeps-values", c -> {
            BlockingXenStore xs = c.xs();
            xs.mkdir(c.path("d/e"));
            c.equal("", xs.readString(c.path("d/e")), "new directory is empty");
            xs.write(c.path("d"), "keep");
            xs.mkdir(c.path("d"));
            c.equal("keep", xs.readString(c.path("d")), "mkdir leaves an existing value alone");
        });
        add("rm-removes-subtree", c -> {
            BlockingXenStore xs = c.xs();
            xs.write(c.path("t/u/v"), "1");
            xs.write(c.path("t/w"), "2");
            xs.rm(c.path("t"));
            c.check(!xs.exists(c.path("t")), "removed node is gone");
            c.check(!xs.exists(c.path("t/u/v")), "its descendants are gone");
            c.equal(List.of(), xs.directory(c.root()), "parent no longer lists it");
        });
        add("rm-missing-child-of-existing-parent-is-ok", c -> {
            c.xs().rm(c.path("never-existed"));
            c.check(c.xs().exists(c.root()), "parent untouched");
        });
        add("rm-with-missing-parent-is-enoent", c ->
                c.expectError(ErrorCode.ENOENT, c.client().rm(c.path("no/such/parent"))));
        add("directory-lists-children", c -> {
            BlockingXenStore xs = c.xs();
            for (String n : List.of("x", "y", "z")) {
                xs.write(c.path("dir/" + n), n);
            }
            c.equal(Set.of("x", "y", "z"), new HashSet<>(xs.directory(c.path("dir"))), "children");
            xs.mkdir(c.path("leaf"));
            c.equal(List.of(), xs.directory(c.path("leaf")), "a leaf has no children");
        });
        add("directory-larger-than-one-payload", c -> {
            XenStoreClient xs = c.client();
            Set<String> expected = new HashSet<>();
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                String name = String.format("child-with-a-long-name-%04d", i);
                expected.add(name);
                writes.add(xs.mkdir(c.path("big/" + name)));
            }
            c.await(CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)));
            List<String> listed = c.await(xs.directory(c.path("big")));
            c.equal(300, listed.size(), "number of children listed");
            c.equal(expected, new HashSet<>(listed), "children listed");
            // How the list crossed: C xenstored refuses DIRECTORY (E2BIG) and the client went on with
            // DIRECTORY_PART; oxenstored sends it all in one reply longer than a request may be.
            Frame reply = rawExchange(c, new Frame(MessageType.DIRECTORY, 3, 0, Payloads.nulTerminated(c.path("big"))));
            if (c.profile().splitsLargeDirectories()) {
                c.equal("ERROR E2BIG", MessageType.of(reply.type()).map(Enum::name).orElse("?") + " "
                        + Payloads.first(reply.payload()), "raw DIRECTORY of 300 children");
            } else {
                c.equal(MessageType.DIRECTORY.code(), reply.type(), "raw DIRECTORY reply type");
                c.check(reply.payload().length > Limits.XENSTORE_PAYLOAD_MAX,
                        "one DIRECTORY reply longer than 4096 bytes (" + reply.payload().length + ")");
                c.equal(expected, new HashSet<>(new ReplyDecoder().value(new Request.Directory(c.path("big")), reply.payload())),
                        "children in the one long reply");
            }
        });
        add("large-value-roundtrip", c -> {
            String path = c.path("large");
            byte[] full = new byte[Limits.XENSTORE_PAYLOAD_MAX - path.length() - 1];
            Arrays.fill(full, (byte) 'v');
            OptionalInt quota = c.profile().maxValueSize();
            if (quota.isEmpty()) {
                c.xs().write(path, full);
                c.check(Arrays.equals(full, c.xs().read(path)), "value filling the whole payload survives");
                return;
            }
            // oxenstored's value quota binds dom0 too: the largest allowed value round-trips, one
            // byte more is E2BIG and leaves the node as it was.
            byte[] largest = Arrays.copyOf(full, quota.getAsInt());
            c.xs().write(path, largest);
            c.check(Arrays.equals(largest, c.xs().read(path)), "value of " + largest.length + " bytes survives");
            c.expectError(ErrorCode.E2BIG, c.client().write(path, Arrays.copyOf(full, largest.length + 1)));
            c.expectError(ErrorCode.E2BIG, c.client().write(path, full));
            c.check(Arrays.equals(largest, c.xs().read(path)), "a refused write leaves the value alone");
        });
        add("relative-paths-resolve-under-own-domain", c -> {
            String name = "xenops-conformance-rel-" + Long.toHexString(System.nanoTime());
            try {
                c.await(c.client().request(new Request.Write(name, "rel".getBytes(StandardCharsets.UTF_8))));
                c.equal("rel", c.xs().readString("/local/domain/0/" + name), "relative write lands under /local/domain/0");
            } finally {
                c.client().request(new Request.Rm("/local/domain/0/" + name));
            }
        });
    }

    private void permissions() {
        add("new-node-inherits-parent-permissions", c -> {
            BlockingXenStore xs = c.xs();
            Permissions readable = Permissions.owner(0, Access.READ);
            xs.setPermissions(c.root(), readable);
            c.equal(readable, xs.getPermissions(c.root()), "permissions set");
            xs.write(c.path("child"), "x");
            c.equal(readable, xs.getPermissions(c.path("child")), "new child's permissions");
        });
        add("set-and-get-permissions", c -> {
            BlockingXenStore xs = c.xs();
            xs.write(c.path("n"), "x");
            Permissions both = Permissions.owner(0, Access.BOTH);
            xs.setPermissions(c.path("n"), both);
            c.equal(both, xs.getPermissions(c.path("n")), "after SET_PERMS b0");
            Permissions none = Permissions.owner(0, Access.NONE);
            xs.setPermissions(c.path("n"), none);
            c.equal(none, xs.getPermissions(c.path("n")), "after SET_PERMS n0");
        });
        add("permissions-on-missing-node-is-enoent", c -> {
            c.expectError(ErrorCode.ENOENT, c.client().getPermissions(c.path("missing")));
            c.expectError(ErrorCode.ENOENT, c.client().setPermissions(c.path("missing"), Permissions.owner(0, Access.NONE)));
        });
        add("malformed-permission-is-einval", c -> {
            c.xs().write(c.path("n"), "x");
            Frame reply = rawExchange(c, new Frame(MessageType.SET_PERMS, 77, 0,
                    Payloads.nulTerminated(c.path("n"), "x0")));
            c.equal(MessageType.ERROR.code(), reply.type(), "reply type");
            c.equal("EINVAL", Payloads.first(reply.payload()), "error");
        });
    }

    private void watches() {
        add("watch-fires-once-on-registration", c -> {
            Watch w = c.await(c.client().watch(c.path("w")));
            WatchEvent first = c.nextEvent(w);
            c.equal(c.path("w"), first.path(), "first event's path is the watched path");
            c.equal(w.token(), first.token(), "first event's token");
            c.noEvent(w);
        });
        add("watch-fires-on-change-at-and-below", c -> {
            Watch w = c.await(c.client().watch(c.path("w")));
            c.nextEvent(w);
            XenStoreClient other = c.newClient();
            other.blocking().write(c.path("w"), "1");
            c.eventFor(w, c.path("w"));
            other.blocking().write(c.path("w/child/grandchild"), "2");
            c.eventFor(w, c.path("w/child/grandchild"));
            other.blocking().rm(c.path("w/child"));
            c.eventFor(w, c.path("w/child"));
        });
        add("watch-ignores-siblings", c -> {
            c.xs().mkdir(c.path("w"));
            Watch w = c.await(c.client().watch(c.path("w")));
            c.nextEvent(w);
            c.xs().write(c.path("w-sibling"), "1");
            c.xs().write(c.path("other/x"), "1");
            c.noEvent(w);
        });
        add("watch-fires-on-permission-change", c -> {
            c.xs().write(c.path("n"), "x");
            Watch w = c.await(c.client().watch(c.path("n")));
            c.nextEvent(w);
            c.xs().setPermissions(c.path("n"), Permissions.owner(0, Access.READ));
            c.eventFor(w, c.path("n"));
        });
        add("watch-below-removed-node-fires-with-watched-path", c -> {
            c.xs().write(c.path("a/b/c"), "x");
            Watch w = c.await(c.client().watch(c.path("a/b/c")));
            c.nextEvent(w);
            c.xs().rm(c.path("a"));
            c.eventFor(w, c.path("a/b/c"));
        });
        add("watch-on-missing-path-fires-on-creation", c -> {
            Watch w = c.await(c.client().watch(c.path("later")));
            c.nextEvent(w);
            c.newClient().blocking().write(c.path("later"), "now");
            c.eventFor(w, c.path("later"));
        });
        add("unwatch-stops-events", c -> {
            Watch w = c.await(c.client().watch(c.path("w")));
            c.nextEvent(w);
            c.await(w.unwatch());
            long dropped = c.client().connection().droppedEvents();
            c.xs().write(c.path("w"), "1");
            Thread.sleep(c.target().quietPeriod().toMillis());
            c.equal(dropped, c.client().connection().droppedEvents(), "events after UNWATCH");
        });
        add("unwatch-unknown-is-enoent", c ->
                c.expectError(ErrorCode.ENOENT, c.client().request(new Request.Unwatch(c.path("w"), "no-such-token"))));
        add("duplicate-watch-is-eexist", c -> {
            XenStoreClient xs = c.client();
            c.await(xs.request(new Request.Watch(c.path("w"), "dup-token")));
            c.expectError(ErrorCode.EEXIST, xs.request(new Request.Watch(c.path("w"), "dup-token")));
            c.await(xs.request(new Request.Unwatch(c.path("w"), "dup-token")));
        });
        add("two-tokens-on-one-path-both-fire", c -> {
            Watch a = c.await(c.client().watch(c.path("w")));
            Watch b = c.await(c.client().watch(c.path("w")));
            c.nextEvent(a);
            c.nextEvent(b);
            c.xs().write(c.path("w"), "1");
            c.eventFor(a, c.path("w"));
            c.eventFor(b, c.path("w"));
        });
        add("special-watches-fire-on-registration", c -> {
            for (String special : List.of("@introduceDomain", "@releaseDomain")) {
                Watch w = c.await(c.client().watch(special));
                WatchEvent e = c.nextEvent(w);
                c.equal(special, e.path(), "first event of " + special);
                c.await(w.unwatch());
            }
        });
        add("reset-watches-drops-watches", c -> {
            XenStoreClient xs = c.newClient();
            Watch w = c.await(xs.watch(c.path("w")));
            c.nextEvent(w);
            c.await(xs.resetWatches());
            c.xs().write(c.path("w"), "1");
            // The watch handle was failed locally; the server must not send events either.
            long dropped = xs.connection().droppedEvents();
            Thread.sleep(c.target().quietPeriod().toMillis());
            c.equal(dropped, xs.connection().droppedEvents(), "events after RESET_WATCHES");
        });
        add("wait-until-is-driven-by-watch", c -> {
            CompletableFuture<Optional<String>> ready = c.client().waitUntil(c.path("state"),
                    v -> v.equals(Optional.of("4")));
            XenStoreClient other = c.newClient();
            other.blocking().write(c.path("state"), "1");
            other.blocking().write(c.path("state"), "3");
            Thread.sleep(c.target().quietPeriod().toMillis());
            c.check(!ready.isDone(), "not done before the value is written");
            other.blocking().write(c.path("state"), "4");
            c.equal(Optional.of("4"), c.await(ready), "value seen");
        });
    }

    private void transactions() {
        add("transaction-isolation-and-commit", c -> {
            XenStoreClient xs = c.client();
            Transaction tx = c.await(xs.startTransaction());
            c.await(tx.write(c.path("t"), "inside"));
            c.equal("inside", c.await(tx.readString(c.path("t"))), "transaction sees its own write");
            c.check(!c.newClient().blocking().exists(c.path("t")), "others do not see it before commit");
            c.await(tx.end(true));
            c.equal("inside", c.xs().readString(c.path("t")), "visible after commit");
        });
        add("transaction-abort-discards", c -> {
            Transaction tx = c.await(c.client().startTransaction());
            c.await(tx.write(c.path("t"), "x"));
            c.await(tx.end(false));
            c.check(!c.xs().exists(c.path("t")), "aborted write is gone");
        });
        add("transaction-watch-fires-at-commit", c -> {
            c.xs().mkdir(c.path("w"));
            Watch w = c.await(c.newClient().watch(c.path("w")));
            c.nextEvent(w);
            Transaction tx = c.await(c.client().startTransaction());
            c.await(tx.write(c.path("w/x"), "1"));
            c.noEvent(w);
            c.await(tx.end(true));
            c.eventFor(w, c.path("w/x"));
        });
        add("transaction-conflict-is-eagain", c -> {
            c.xs().write(c.path("x"), "0");
            Transaction tx = c.await(c.client().startTransaction());
            c.equal("0", c.await(tx.readString(c.path("x"))), "read in transaction");
            c.newClient().blocking().write(c.path("x"), "other");
            c.await(tx.write(c.path("x"), "mine"));
            c.expectError(ErrorCode.EAGAIN, tx.end(true));
            c.equal("other", c.xs().readString(c.path("x")), "the other write stands");
        });
        add("transaction-unrelated-write-commits", c -> {
            c.xs().write(c.path("p/x"), "0");
            c.xs().write(c.path("p/y"), "0");
            Transaction tx = c.await(c.client().startTransaction());
            c.await(tx.readString(c.path("p/x")));
            c.await(tx.write(c.path("p/x"), "1"));
            c.newClient().blocking().write(c.path("p/y"), "1");
            c.await(tx.end(true));
            c.equal("1", c.xs().readString(c.path("p/x")), "transaction's write");
            c.equal("1", c.xs().readString(c.path("p/y")), "other's write");
        });
        add("transaction-combinator-retries-conflict", c -> {
            c.xs().write(c.path("counter"), "0");
            XenStoreClient other = c.newClient();
            AtomicInteger attempts = new AtomicInteger();
            int result = c.await(c.client().transaction(new RetryPolicy(5, Duration.ZERO, Duration.ZERO), tx ->
                    tx.readString(c.path("counter")).thenCompose(v -> {
                        int n = Integer.parseInt(v);
                        CompletableFuture<Void> interfere = attempts.incrementAndGet() == 1
                                ? other.write(c.path("counter"), "100") : CompletableFuture.completedFuture(null);
                        return interfere.thenCompose(x -> tx.write(c.path("counter"), Integer.toString(n + 1)))
                                .thenApply(x -> n + 1);
                    })));
            c.equal(2, attempts.get(), "attempts");
            c.equal(101, result, "value computed on the second attempt");
            c.equal("101", c.xs().readString(c.path("counter")), "final value is consistent");
        });
        add("transaction-combinator-gives-up-after-bound", c -> {
            c.xs().write(c.path("hot"), "0");
            XenStoreClient other = c.newClient();
            AtomicInteger attempts = new AtomicInteger();
            c.expectError(ErrorCode.EAGAIN, c.client().transaction(new RetryPolicy(3, Duration.ZERO, Duration.ZERO), tx ->
                    tx.readString(c.path("hot"))
                            .thenCompose(v -> other.write(c.path("hot"), Integer.toString(attempts.incrementAndGet())))
                            .thenCompose(x -> tx.write(c.path("hot"), "mine"))));
            c.equal(3, attempts.get(), "attempts before giving up");
        });
        // C xenstored answers ENOENT for a transaction it does not know, oxenstored EIO; the client
        // reports both as NoSuchTransactionException (keeping the code).
        add("unknown-transaction-is-enoent", c -> {
            Frame reply = rawExchange(c, new Frame(MessageType.READ, 5, 0x7eadbeef, Payloads.nulTerminated(c.root())));
            c.equal(MessageType.ERROR.code(), reply.type(), "reply type");
            c.equal(c.profile().unknownTransactionError().name(), Payloads.first(reply.payload()), "error");
        });
        add("ended-transaction-is-enoent", c -> {
            Transaction tx = c.await(c.client().startTransaction());
            c.await(tx.end(false));
            XenStoreErrorException e = c.expectError(c.profile().unknownTransactionError(),
                    c.client().connection().send(new Request.TransactionEnd(true), tx.id()));
            c.check(e instanceof NoSuchTransactionException, "typed as NoSuchTransactionException: " + e.getClass());
        });
        add("reset-watches-drops-transactions", c -> {
            XenStoreClient xs = c.newClient();
            Transaction tx = c.await(xs.startTransaction());
            c.await(tx.write(c.path("t"), "lost"));
            c.await(xs.resetWatches());
            XenStoreErrorException e = c.expectError(c.profile().unknownTransactionError(), tx.end(true));
            c.check(e instanceof NoSuchTransactionException, "typed as NoSuchTransactionException: " + e.getClass());
            c.check(!c.xs().exists(c.path("t")), "nothing of the dropped transaction committed");
        });
        add("transaction-combinator-retries-lost-transaction", c -> {
            XenStoreClient xs = c.newClient();
            AtomicInteger attempts = new AtomicInteger();
            String result = c.await(xs.transaction(new RetryPolicy(3, Duration.ZERO, Duration.ZERO), tx -> {
                CompletableFuture<Void> lose = attempts.incrementAndGet() == 1
                        ? xs.resetWatches() : CompletableFuture.completedFuture(null);
                return lose.thenCompose(x -> tx.write(c.path("v"), "attempt " + attempts.get()))
                        .thenApply(x -> "attempt " + attempts.get());
            }));
            c.equal(2, attempts.get(), "attempts (the first one's transaction was dropped by RESET_WATCHES)");
            c.equal("attempt 2", result, "result");
            c.equal("attempt 2", c.xs().readString(c.path("v")), "committed value");
        });
    }

    private void protocol() {
        add("pipelined-requests-all-answered", c -> {
            XenStoreClient xs = c.client();
            int n = 500;
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                writes.add(xs.write(c.path("k" + i), "v" + i));
            }
            c.await(CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)));
            List<CompletableFuture<String>> reads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                reads.add(xs.readString(c.path("k" + i)));
            }
            for (int i = 0; i < n; i++) {
                c.equal("v" + i, c.await(reads.get(i)), "pipelined read " + i);
            }
        });
        add("invalid-paths-are-einval", c -> {
            for (String bad : List.of(c.root() + "//x", c.root() + "/", c.root() + "/sp ace", c.root() + "/b\u00e4d")) {
                c.expectError(ErrorCode.EINVAL, c.client().request(new Request.Read(bad)));
                c.expectError(ErrorCode.EINVAL, c.client().request(new Request.Write(bad, new byte[] {1})));
            }
            c.check(c.client().connection().isOpen(), "connection survives invalid paths");
        });
        add("client-refuses-invalid-requests-before-sending", c -> {
            try {
                c.xs().write(c.root() + "//x", "v");
                c.check(false, "bad path accepted");
            } catch (InvalidRequestException expected) {
                // The client must refuse it itself.
            }
            try {
                c.xs().write(c.path("x"), new byte[Limits.XENSTORE_PAYLOAD_MAX]);
                c.check(false, "oversized payload accepted");
            } catch (InvalidRequestException expected) {
                // Refused before sending: xenstored would drop the connection.
            }
            c.check(c.client().connection().isOpen(), "connection still open");
            c.xs().write(c.path("x"), "ok");
        });
        add("oversized-frame-drops-connection", c -> {
            Transport raw = c.rawTransport();
            byte[] payload = new byte[Limits.XENSTORE_PAYLOAD_MAX + 1];
            if (!writeOrRefused(raw, new Frame(MessageType.READ, 1, 0, payload))) {
                return; // The xenbus device refuses the write itself (EINVAL): never reaches xenstored.
            }
            if (c.profile().dropsOversizedRequests()) {
                c.check(readUntilEnd(raw, c.target().patience()), "server closes the connection");
                return;
            }
            // oxenstored cuts the announced length to 4096, answers those bytes as a request (4096
            // NULs are no valid READ) and keeps the connection: the 4097th byte now starts a header.
            Frame reply = readFrame(raw, FrameDecoder.forReplies(Limits.standard()), c.target().patience());
            c.check(reply != null, "an answer to the first 4096 bytes, not a closed connection");
            c.equal("ERROR EINVAL req 1", MessageType.of(reply.type()).map(Enum::name).orElse("?") + " "
                    + Payloads.first(reply.payload()) + " req " + reply.reqId(), "reply to the cut request");
            c.check(!readUntilEnd(raw, c.target().quietPeriod()), "connection kept open");
        });
        add("unknown-message-type-is-answered-or-dropped", c -> {
            Transport raw = c.rawTransport();
            if (!writeOrRefused(raw, new Frame(0x7777, 9, 0, Payloads.nulTerminated("x")))) {
                return; // Refused by the xenbus device driver: also an answer, and no hang.
            }
            FrameDecoder d = FrameDecoder.forReplies(Limits.standard());
            Frame reply = readFrame(raw, d, c.target().patience());
            if (reply != null) {
                c.equal(MessageType.ERROR.code(), reply.type(), "reply to an unknown type");
                c.equal(9, reply.reqId(), "req_id echoed");
            }
        });
        add("reply-echoes-req-id", c -> {
            Frame reply = rawExchange(c, new Frame(MessageType.GET_DOMAIN_PATH, 0x12345678, 0, Payloads.nulTerminated("3")));
            c.equal(0x12345678, reply.reqId(), "req_id");
            c.equal(MessageType.GET_DOMAIN_PATH.code(), reply.type(), "type");
        });
    }

    private void domains() {
        add("get-domain-path", c -> {
            c.equal("/local/domain/7", c.await(c.client().getDomainPath(7)), "domain path of 7");
            c.equal("/local/domain/0", c.await(c.client().getDomainPath(0)), "domain path of 0");
        });
        add("dom0-is-introduced", c -> {
            c.equal(true, c.await(c.client().isDomainIntroduced(0)), "dom0");
            c.equal(false, c.await(c.client().isDomainIntroduced(32000)), "an unused domid");
        });
        add("introduce-and-release-fire-special-watches", Set.of(Capability.FAKE_DOMAINS), c -> {
            XenStoreClient xs = c.client();
            Watch intro = c.await(xs.watch("@introduceDomain"));
            Watch rel = c.await(xs.watch("@releaseDomain"));
            c.nextEvent(intro);
            c.nextEvent(rel);
            c.await(xs.introduceDomain(31000, 1234, 5));
            c.eventFor(intro, "@introduceDomain");
            c.equal(true, c.await(xs.isDomainIntroduced(31000)), "introduced");
            c.await(xs.releaseDomain(31000));
            c.eventFor(rel, "@releaseDomain");
            c.equal(false, c.await(xs.isDomainIntroduced(31000)), "released");
            c.expectError(ErrorCode.ENOENT, xs.releaseDomain(31000));
        });
        add("features-and-quotas", Set.of(Capability.QUOTA_AND_FEATURE_REQUESTS), c -> {
            XenStoreClient xs = c.client();
            long supported = c.await(xs.supportedFeatures());
            c.await(xs.setDomainFeatures(31001, supported));
            c.equal(supported, c.await(xs.domainFeatures(31001)), "features of a domain");
            List<String> names = c.await(xs.quotaNames());
            c.check(!names.isEmpty(), "quota names listed");
            String q = names.get(0);
            long old = c.await(xs.globalQuota(q));
            c.await(xs.setDomainQuota(31001, q, old + 1));
            c.equal(old + 1, c.await(xs.domainQuota(31001, q)), "domain quota");
            c.equal(old, c.await(xs.globalQuota(q)), "global quota unchanged");
            c.expectError(ErrorCode.EINVAL, xs.globalQuota("no-such-quota"));
        });
    }

    private void guests() {
        Set<Capability> guest = Set.of(Capability.DOMAIN_CONNECTIONS);
        add("guest-permissions-enforced", guest, c -> {
            BlockingXenStore dom0 = c.xs();
            dom0.write(c.path("secret"), "s");
            dom0.setPermissions(c.path("secret"), Permissions.owner(0, Access.NONE));
            XenStoreClient guestClient = c.newDomainClient(9);
            c.expectError(ErrorCode.EACCES, guestClient.read(c.path("secret")));
            dom0.setPermissions(c.path("secret"), Permissions.of(new Permission(0, Access.NONE), new Permission(9, Access.READ)));
            c.equal("s", c.await(guestClient.readString(c.path("secret"))), "read with r9");
            c.expectError(ErrorCode.EACCES, guestClient.write(c.path("secret"), "x"));
            c.expectError(ErrorCode.EACCES, guestClient.setPermissions(c.path("secret"), Permissions.owner(9, Access.BOTH)));
        });
        add("guest-owns-what-it-creates", guest, c -> {
            BlockingXenStore dom0 = c.xs();
            dom0.mkdir(c.path("home"));
            dom0.setPermissions(c.path("home"), Permissions.owner(9, Access.NONE));
            XenStoreClient guestClient = c.newDomainClient(9);
            c.await(guestClient.write(c.path("home/mine"), "x"));
            c.equal(9, dom0.getPermissions(c.path("home/mine")).owner(), "owner of a guest-created node");
            c.expectError(ErrorCode.EACCES, c.newDomainClient(10).read(c.path("home/mine")));
        });
        add("guest-relative-paths-and-events", guest, c -> {
            c.xs().mkdir("/local/domain/11");
            c.xs().setPermissions("/local/domain/11", Permissions.owner(11, Access.NONE));
            try {
                XenStoreClient g = c.newDomainClient(11);
                Watch w = c.await(g.watch("data"));
                c.equal("data", c.nextEvent(w).path(), "relative first event");
                c.await(g.request(new Request.Write("data/x", "1".getBytes(StandardCharsets.UTF_8))));
                c.eventFor(w, "data/x");
                c.equal("1", c.xs().readString("/local/domain/11/data/x"), "relative write lands in the home");
            } finally {
                c.xs().rm("/local/domain/11");
            }
        });
        add("guest-node-quota", Set.of(Capability.DOMAIN_CONNECTIONS, Capability.QUOTA_AND_FEATURE_REQUESTS), c -> {
            c.xs().mkdir(c.path("q"));
            c.xs().setPermissions(c.path("q"), Permissions.owner(12, Access.NONE));
            c.await(c.client().setDomainQuota(12, "nodes", 3));
            XenStoreClient g = c.newDomainClient(12);
            c.await(g.write(c.path("q/a"), "1"));
            c.await(g.write(c.path("q/b"), "1"));
            expectQuota(c, g.write(c.path("q/c/d"), "1"));
        });
        add("guest-cannot-use-dom0-requests", guest, c -> {
            XenStoreClient g = c.newDomainClient(13);
            c.expectError(ErrorCode.EACCES, g.introduceDomain(14, 1, 1));
            c.expectError(ErrorCode.EACCES, g.releaseDomain(13));
        });
    }

    /** Interop with C libxenstore through Xen's own tools, in both directions. */
    private void tools() {
        Set<Capability> tools = Set.of(Capability.XENSTORE_TOOLS);
        add("tools-read-what-we-write", tools, c -> {
            c.xs().write(c.path("ours"), "written by java");
            c.equal("written by java", c.tool("xenstore-read", c.path("ours")), "xenstore-read");
        });
        add("we-read-what-tools-write", tools, c -> {
            c.tool("xenstore-write", c.path("theirs"), "written by C", c.path("deep/er"), "2");
            c.equal("written by C", c.xs().readString(c.path("theirs")), "our read");
            c.equal("2", c.xs().readString(c.path("deep/er")), "our read of a created path");
        });
        add("our-watch-fires-on-tools-write", tools, c -> {
            Watch w = c.await(c.client().watch(c.path("w")));
            c.nextEvent(w);
            c.tool("xenstore-write", c.path("w/x"), "1");
            c.eventFor(w, c.path("w/x"));
        });
        add("tools-list-and-remove-our-nodes", tools, c -> {
            for (String n : List.of("a", "b", "c")) {
                c.xs().write(c.path("l/" + n), n);
            }
            c.equal(Set.of("a", "b", "c"), new HashSet<>(c.tool("xenstore-list", c.path("l")).lines().toList()), "xenstore-list");
            c.tool("xenstore-rm", c.path("l/b"));
            c.check(!c.xs().exists(c.path("l/b")), "removed by xenstore-rm");
            c.equal(0, c.runTool("xenstore-exists", c.path("l/a")).exitCode(), "xenstore-exists of a present node");
            c.check(c.runTool("xenstore-exists", c.path("l/b")).exitCode() != 0, "xenstore-exists of a removed node");
        });
        add("tools-list-a-directory-larger-than-one-payload", tools, c -> {
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                writes.add(c.client().mkdir(c.path(String.format("big/child-with-a-long-name-%04d", i))));
            }
            c.await(CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)));
            if (c.profile().splitsLargeDirectories()) {
                c.equal(300L, c.tool("xenstore-list", c.path("big")).lines().count(), "children listed by xenstore-list");
                return;
            }
            // libxenstore (Xen 4.17) refuses any reply over 4096 bytes, and oxenstored sends the list
            // in one: Xen's own tool cannot list it, where this client can.
            ConformanceContext.ToolResult r = c.runTool("xenstore-list", c.path("big"));
            c.check(r.exitCode() != 0 && r.output().contains("could not list path"),
                    "xenstore-list fails on oxenstored's long reply: " + r);
            c.equal(300, c.await(c.client().directory(c.path("big"))).size(), "children listed by this client");
        });
        add("tools-write-conflicts-with-our-transaction-which-retries", tools, c -> {
            // The second connection is Xen's own client (another process): its write between our
            // read and our commit must make the commit fail with EAGAIN, and the retry win.
            c.xs().write(c.path("counter"), "0");
            AtomicInteger attempts = new AtomicInteger();
            int result = c.await(c.client().transaction(new RetryPolicy(5, Duration.ZERO, Duration.ZERO), tx ->
                    tx.readString(c.path("counter")).thenCompose(v -> {
                        int n = Integer.parseInt(v);
                        CompletableFuture<Void> interfere = attempts.incrementAndGet() > 1
                                ? CompletableFuture.completedFuture(null)
                                : CompletableFuture.runAsync(() -> {
                                    try {
                                        c.tool("xenstore-write", c.path("counter"), "100");
                                    } catch (Exception e) {
                                        throw new java.util.concurrent.CompletionException(e);
                                    }
                                });
                        return interfere.thenCompose(x -> tx.write(c.path("counter"), Integer.toString(n + 1)))
                                .thenApply(x -> n + 1);
                    })));
            c.equal(2, attempts.get(), "attempts");
            c.equal(101, result, "value computed on the second attempt");
            c.equal("101", c.tool("xenstore-read", c.path("counter")), "final value, read by xenstore-read");
        });
        add("permissions-agree-with-tools", tools, c -> {
            c.xs().write(c.path("p"), "x");
            c.tool("xenstore-chmod", c.path("p"), "n0", "r5");
            c.equal(Permissions.parse("n0 r5"), c.xs().getPermissions(c.path("p")), "perms set by xenstore-chmod");
            c.xs().setPermissions(c.path("p"), Permissions.parse("b0 w7"));
            String listing = c.tool("xenstore-ls", "-p", c.root());
            c.check(listing.contains("(b0,w7)"), "xenstore-ls -p shows our permissions: " + listing);
        });
    }

    /** Quota failures are ENOSPC in C xenstored (and ours) and EQUOTA in oxenstored. */
    private static void expectQuota(ConformanceContext c, CompletableFuture<?> f) throws Exception {
        c.expectError(c.profile().quotaError(), f);
    }

    // ------------------------------------------------------------------ raw helpers

    /** Writes a frame; false if the transport refused the write (as the xenbus driver does). */
    private static boolean writeOrRefused(Transport raw, Frame f) {
        try {
            raw.write(List.of(ByteBuffer.wrap(FrameEncoder.encodeUnchecked(f))));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Sends one frame on a fresh raw connection and returns the first reply. */
    private static Frame rawExchange(ConformanceContext c, Frame request) throws IOException {
        Transport raw = c.rawTransport();
        raw.write(List.of(ByteBuffer.wrap(FrameEncoder.encodeUnchecked(request))));
        Frame reply = readFrame(raw, FrameDecoder.forReplies(Limits.standard()), c.target().patience());
        if (reply == null) {
            throw new ConformanceContext.ConformanceFailure("connection closed instead of a reply to " + request);
        }
        return reply;
    }

    /** Reads one frame, or null at end of stream; a watchdog closes the transport on timeout. */
    private static Frame readFrame(Transport raw, FrameDecoder d, Duration patience) throws IOException {
        CompletableFuture<Void> watchdog = new CompletableFuture<>();
        watchdog.completeOnTimeout(null, patience.toMillis(), TimeUnit.MILLISECONDS)
                .thenRun(() -> closeQuietly(raw));
        try {
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (true) {
                buf.clear();
                int n;
                try {
                    n = raw.read(buf);
                } catch (IOException e) {
                    return null;
                }
                if (n < 0) {
                    return null;
                }
                buf.flip();
                Frame f = d.next(buf);
                if (f != null) {
                    return f;
                }
            }
        } finally {
            watchdog.cancel(false);
        }
    }

    /** True if the peer ends the stream within {@code patience} (bytes before that are ignored). */
    private static boolean readUntilEnd(Transport raw, Duration patience) {
        CompletableFuture<Void> watchdog = new CompletableFuture<>();
        long deadline = System.nanoTime() + patience.toNanos();
        watchdog.completeOnTimeout(null, patience.toMillis(), TimeUnit.MILLISECONDS)
                .thenRun(() -> closeQuietly(raw));
        try {
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (true) {
                buf.clear();
                if (raw.read(buf) < 0) {
                    return System.nanoTime() < deadline;
                }
            }
        } catch (IOException e) {
            return System.nanoTime() < deadline;
        } finally {
            watchdog.cancel(false);
        }
    }

    private static void closeQuietly(Transport t) {
        try {
            t.close();
        } catch (IOException ignored) {
            // Only used to unblock a read.
        }
    }
}
