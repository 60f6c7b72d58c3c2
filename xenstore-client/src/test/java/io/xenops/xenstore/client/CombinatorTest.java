package io.xenops.xenstore.client;

import io.xenops.xenstore.error.ConnectionClosedException;
import io.xenops.xenstore.error.TransactionConflictException;
import io.xenops.xenstore.server.XenStoreServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(30)
class CombinatorTest {

    private final XenStoreServer server = new XenStoreServer();
    private final XenStoreClient xs = XenStoreClient.open(server.connect());
    private final XenStoreClient other = XenStoreClient.open(server.connect());

    @AfterEach
    void stop() {
        xs.close();
        other.close();
        server.close();
    }

    /** Waits until the server has sent every event for watches we dropped (drops then stop rising). */
    private long settledDrops() throws InterruptedException {
        long last = -1;
        long now = xs.connection().droppedEvents();
        while (now != last) {
            Thread.sleep(50);
            last = now;
            now = xs.connection().droppedEvents();
        }
        return now;
    }

    @Test
    void waitUntilCompletesWhenTheConditionHoldsAndThenUnwatches() throws Exception {
        other.blocking().write("/hotplug-status", "starting");
        CompletableFuture<Optional<String>> f = xs.waitUntil("/hotplug-status", v -> v.equals(Optional.of("connected")));
        Thread.sleep(100);
        assertThat(f).isNotDone();
        other.blocking().write("/hotplug-status", "connected");
        assertThat(f.get(5, TimeUnit.SECONDS)).contains("connected");
        long drops = settledDrops();
        // The watch is gone: later writes reach no watch on our connection.
        other.blocking().write("/hotplug-status", "again");
        Thread.sleep(200);
        assertThat(xs.connection().droppedEvents()).isEqualTo(drops);
    }

    @Test
    void waitUntilSeesAnAlreadyTrueConditionAtOnce() throws Exception {
        other.blocking().write("/ready", "1");
        assertThat(xs.waitUntil("/ready", v -> v.isPresent()).get(5, TimeUnit.SECONDS)).contains("1");
    }

    @Test
    void waitUntilCanWaitForANodeToDisappear() throws Exception {
        other.blocking().write("/busy", "1");
        CompletableFuture<Optional<String>> gone = xs.waitUntil("/busy", Optional::isEmpty);
        Thread.sleep(100);
        assertThat(gone).isNotDone();
        other.blocking().rm("/busy");
        assertThat(gone.get(5, TimeUnit.SECONDS)).isEmpty();
    }

    @Test
    void waitUntilTimesOutAndCleansUp() throws Exception {
        CompletableFuture<Optional<String>> f = xs.waitUntil("/never", v -> v.equals(Optional.of("x")), Duration.ofMillis(200));
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class);
        long drops = settledDrops();
        other.blocking().write("/never", "y");
        Thread.sleep(200);
        assertThat(xs.connection().droppedEvents()).isEqualTo(drops);
    }

    @Test
    void waitUntilFailsWhenTheConnectionCloses() {
        CompletableFuture<Optional<String>> f = xs.waitUntil("/x", v -> false);
        xs.close();
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(ConnectionClosedException.class);
    }

    @Test
    void waitForExtractsAValue() throws Exception {
        CompletableFuture<Integer> port = xs.waitFor("/port", v -> v.filter(s -> s.matches("\\d+")).map(Integer::parseInt));
        other.blocking().write("/port", "pending");
        other.blocking().write("/port", "8080");
        assertThat(port.get(5, TimeUnit.SECONDS)).isEqualTo(8080);
    }

    @Test
    void transactionBodyFailureDiscardsAndIsReported() throws Exception {
        CompletableFuture<Object> f = xs.transaction(tx -> tx.write("/t", "x").thenApply(v -> {
            throw new IllegalStateException("body failed");
        }));
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).hasRootCauseInstanceOf(IllegalStateException.class);
        assertThat(xs.blocking().exists("/t")).isFalse();
    }

    @Test
    void asyncTransactionRetriesUntilItCommits() throws Exception {
        xs.blocking().write("/n", "0");
        AtomicInteger attempts = new AtomicInteger();
        int v = xs.transaction(tx -> tx.readString("/n").thenCompose(s -> {
            CompletableFuture<Void> meddle = attempts.incrementAndGet() < 4
                    ? other.write("/n", Integer.toString(attempts.get() * 10)) : CompletableFuture.completedFuture(null);
            return meddle.thenCompose(x -> tx.write("/n", s + "!")).thenApply(x -> attempts.get());
        })).get(5, TimeUnit.SECONDS);
        assertThat(v).isEqualTo(4);
        assertThat(xs.blocking().readString("/n")).isEqualTo("30!");
    }

    @Test
    void blockingTransactionRetriesAndGivesUpAtTheBound() {
        BlockingXenStore b = xs.blocking();
        b.write("/c", "0");
        AtomicInteger attempts = new AtomicInteger();
        int result = b.transaction(tx -> {
            int n = Integer.parseInt(tx.readString("/c"));
            if (attempts.incrementAndGet() == 1) {
                other.blocking().write("/c", "5");
            }
            tx.write("/c", Integer.toString(n + 1));
            return n + 1;
        });
        assertThat(result).isEqualTo(6);
        assertThat(attempts).hasValue(2);
        AtomicInteger tries = new AtomicInteger();
        assertThatThrownBy(() -> b.transaction(new RetryPolicy(3, Duration.ZERO, Duration.ZERO), tx -> {
            tx.readString("/c");
            other.blocking().write("/c", Integer.toString(tries.incrementAndGet()));
            tx.write("/c", "mine");
            return null;
        })).isInstanceOf(TransactionConflictException.class);
        assertThat(tries).hasValue(3);
    }

    @Test
    void endedTransactionRefusesFurtherRequests() throws Exception {
        Transaction tx = xs.startTransaction().get(5, TimeUnit.SECONDS);
        tx.end(false).get(5, TimeUnit.SECONDS);
        assertThatThrownBy(() -> tx.read("/x").join()).isInstanceOf(CompletionException.class)
                .hasMessageContaining("already ended");
    }

    @Test
    void retryPolicyBackoffGrowsAndIsCapped() {
        RetryPolicy p = new RetryPolicy(10, Duration.ofMillis(2), Duration.ofMillis(16));
        for (int i = 0; i < 50; i++) {
            assertThat(p.backoff(2)).isBetween(Duration.ofMillis(1), Duration.ofMillis(2));
            assertThat(p.backoff(4)).isBetween(Duration.ofMillis(4), Duration.ofMillis(8));
            assertThat(p.backoff(20)).isBetween(Duration.ofMillis(8), Duration.ofMillis(16));
        }
        assertThatThrownBy(() -> new RetryPolicy(0, Duration.ZERO, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void watchListenerRunsOffTheReaderThreadAndMayBlock() throws Exception {
        CompletableFuture<String> seen = new CompletableFuture<>();
        xs.watch("/l", e -> {
            if (e.path().equals("/l/x")) {
                // Blocking inside a listener is allowed: it runs on the event executor.
                seen.complete(xs.blocking().readString("/l/x"));
            }
        }).get(5, TimeUnit.SECONDS);
        other.blocking().write("/l/x", "v");
        assertThat(seen.get(5, TimeUnit.SECONDS)).isEqualTo("v");
    }
}
