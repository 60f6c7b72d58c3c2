package io.xenops.daemon.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
    private final RetryPolicy policy = new RetryPolicy(10, Duration.ofMillis(100), Duration.ofSeconds(2), Duration.ofMinutes(1));

    @Test
    void backoffDoublesWithinHalfToFullOfTheBaseAndStopsAtTheCap() {
        SplittableRandom random = new SplittableRandom(7);
        long[] bases = {100, 200, 400, 800, 1600, 2000, 2000, 2000};
        for (int failed = 1; failed <= bases.length; failed++) {
            long base = bases[failed - 1];
            for (int i = 0; i < 200; i++) {
                long ms = policy.backoff(failed, random).toMillis();
                assertThat(ms).as("wait after failure %d", failed).isBetween(base / 2, base);
            }
        }
    }

    @Test
    void jitterSpreadsRetriesThatFailedTogether() {
        SplittableRandom random = new SplittableRandom(1);
        Set<Long> waits = new HashSet<>();
        for (int i = 0; i < 50; i++) waits.add(policy.backoff(3, random).toMillis());
        assertThat(waits).as("distinct waits among 50 deliveries").hasSizeGreaterThan(25);
    }

    @Test
    void hugeAttemptNumbersDoNotOverflow() {
        assertThat(policy.backoff(Integer.MAX_VALUE, new SplittableRandom(3))).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(2));
    }

    @Test
    void nonsenseLimitsAreRejected() {
        assertThatThrownBy(() -> new RetryPolicy(0, Duration.ofMillis(1), Duration.ofMillis(1), Duration.ofMillis(1)))
                .hasMessageContaining("maxAttempts");
        assertThatThrownBy(() -> new RetryPolicy(1, Duration.ofMillis(10), Duration.ofMillis(1), Duration.ofMillis(1)))
                .hasMessageContaining("maxBackoff");
        assertThatThrownBy(() -> new RetryPolicy(1, Duration.ZERO, Duration.ofMillis(1), Duration.ofMillis(1)))
                .hasMessageContaining("initialBackoff");
    }
}
