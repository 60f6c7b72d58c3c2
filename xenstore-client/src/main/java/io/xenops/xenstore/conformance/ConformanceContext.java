package io.xenops.xenstore.conformance;

import io.xenops.xenstore.client.BlockingXenStore;
import io.xenops.xenstore.client.Watch;
import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.error.ErrorCode;
import io.xenops.xenstore.error.XenStoreErrorException;
import io.xenops.xenstore.transport.Transport;
import io.xenops.xenstore.wire.WatchEvent;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What a check works with: a scratch path of its own, connections that are closed afterwards, and
 * assertions that fail with {@link ConformanceFailure}. Kept free of JUnit so the suite runs from a
 * plain classpath inside dom0.
 */
public final class ConformanceContext implements AutoCloseable {

    private final ConformanceTarget target;
    private final String root;
    private final List<AutoCloseable> opened = new ArrayList<>();
    private XenStoreClient client;

    ConformanceContext(ConformanceTarget target, String root) {
        this.target = target;
        this.root = root;
    }

    /** The implementation under test, for the checks where the real daemons differ. */
    public ServerProfile profile() {
        return target.profile();
    }

    public ConformanceTarget target() {
        return target;
    }

    /** This check's own subtree; created empty before the check, removed after. */
    public String root() {
        return root;
    }

    public String path(String relative) {
        return root + "/" + relative;
    }

    /** The check's main dom0 client. */
    public XenStoreClient client() throws IOException {
        if (client == null) {
            client = newClient();
        }
        return client;
    }

    public BlockingXenStore xs() throws IOException {
        return client().blocking(target.patience());
    }

    /** Another dom0 connection (to race with the first, or to watch from). */
    public XenStoreClient newClient() throws IOException {
        XenStoreClient c = target.connect();
        opened.add(c);
        return c;
    }

    public XenStoreClient newDomainClient(int domid) throws IOException {
        XenStoreClient c = target.connectAsDomain(domid);
        opened.add(c);
        return c;
    }

    public Transport rawTransport() throws IOException {
        Transport t = target.openRaw();
        opened.add(t);
        return t;
    }

    /**
     * Runs one of Xen's xenstore-* tools against the target and returns its standard output
     * (trailing newline removed); fails the check if it does not exit 0 within the patience.
     */
    public String tool(String... command) throws IOException, InterruptedException {
        ToolResult r = runTool(command);
        if (r.exitCode() != 0) {
            throw new ConformanceFailure(String.join(" ", command) + " exited " + r.exitCode() + ": " + r.output());
        }
        return r.output();
    }

    /** Exit code and combined output of a tool run. */
    public record ToolResult(int exitCode, String output) {
    }

    public ToolResult runTool(String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(target.toolEnvironment());
        Process p = pb.start();
        // Read before waiting so that a chatty tool cannot block on a full pipe.
        java.util.concurrent.CompletableFuture<String> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        });
        if (!p.waitFor(target.patience().toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            p.waitFor();
            throw new ConformanceFailure(String.join(" ", command) + " did not finish within " + target.patience());
        }
        String text = out.join();
        if (text.endsWith("\n")) {
            text = text.substring(0, text.length() - 1);
        }
        return new ToolResult(p.exitValue(), text);
    }

    // ---------------------------------------------------------------- assertions

    public void check(boolean condition, String message) {
        if (!condition) {
            throw new ConformanceFailure(message);
        }
    }

    public void equal(Object expected, Object actual, String what) {
        if (!Objects.equals(expected, actual)) {
            throw new ConformanceFailure(what + ": expected <" + expected + "> but was <" + actual + ">");
        }
    }

    /** Waits for {@code f} with the target's patience. */
    public <T> T await(CompletableFuture<T> f) throws Exception {
        try {
            return f.get(target.patience().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw unwrap(e);
        } catch (TimeoutException e) {
            throw new ConformanceFailure("no answer within " + target.patience());
        }
    }

    /** Asserts that {@code f} fails with the XenStore error {@code code}. */
    public XenStoreErrorException expectError(ErrorCode code, CompletableFuture<?> f) throws Exception {
        Object value;
        try {
            value = f.get(target.patience().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Exception cause = unwrap(e);
            if (cause instanceof XenStoreErrorException x) {
                if (x.code() != code) {
                    throw new ConformanceFailure("expected " + code + " but got " + x.wireName());
                }
                return x;
            }
            throw new ConformanceFailure("expected " + code + " but failed with " + cause);
        } catch (TimeoutException e) {
            throw new ConformanceFailure("expected " + code + " but got no answer within " + target.patience());
        }
        throw new ConformanceFailure("expected " + code + " but succeeded with <" + value + ">");
    }

    /** The next event of a watch, failing after the target's patience. */
    public WatchEvent nextEvent(Watch w) throws InterruptedException {
        WatchEvent e = w.poll(target.patience());
        if (e == null) {
            throw new ConformanceFailure("no watch event on " + w.path() + " within " + target.patience());
        }
        return e;
    }

    /** Reads events until one has path {@code path}; fails if it does not come. */
    public WatchEvent eventFor(Watch w, String path) throws InterruptedException {
        long deadline = System.nanoTime() + target.patience().toNanos();
        List<String> seen = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            WatchEvent e = w.poll(java.time.Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (e == null) {
                break;
            }
            if (e.path().equals(path)) {
                return e;
            }
            seen.add(e.path());
        }
        throw new ConformanceFailure("no event for " + path + " on watch " + w.path() + " (saw " + seen + ")");
    }

    /** Asserts that no event arrives during the target's quiet period. */
    public void noEvent(Watch w) throws InterruptedException {
        WatchEvent e = w.poll(target.quietPeriod());
        if (e != null) {
            throw new ConformanceFailure("unexpected watch event " + e);
        }
    }

    private static Exception unwrap(ExecutionException e) {
        Throwable c = e;
        while ((c instanceof ExecutionException || c instanceof java.util.concurrent.CompletionException)
                && c.getCause() != null) {
            c = c.getCause();
        }
        return c instanceof Exception x ? x : new RuntimeException(c);
    }

    @Override
    public void close() {
        for (AutoCloseable c : opened.reversed()) {
            try {
                c.close();
            } catch (Exception ignored) {
                // Cleanup only.
            }
        }
    }

    /** A check's assertion failed. */
    public static final class ConformanceFailure extends AssertionError {
        public ConformanceFailure(String message) {
            super(message);
        }
    }
}
