package io.xenops.daemon.pool;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PoolTest {

    @Test
    void backoffDoublesFrom100msTo30sAndASuccessResetsIt() {
        Pool<String> p = new Pool<>("hello", 1);
        long[] seen = new long[12];
        for (int i = 0; i < seen.length; i++) {
            p.buildStarted();
            Pool.Backoff b = p.buildFailed("boom");
            seen[i] = b.millis();
            assertThat(p.deficit()).as("no build while backing off").isZero();
            assertThat(p.backoffOver(b.ticket())).isTrue();
        }
        assertThat(seen).startsWith(100, 200, 400, 800).endsWith(30_000, 30_000);
        p.buildStarted();
        assertThat(p.buildSucceeded("vm")).isTrue();
        p.setTarget(2);
        p.buildStarted();
        assertThat(p.buildFailed("again").millis()).as("a success starts the streak over").isEqualTo(100);
        assertThat(p.view().buildFailures()).isEqualTo(13);
        assertThat(p.view().lastError()).isEqualTo("again");
    }

    @Test
    void whenTwoBuildsFailTogetherTheFirstTimerDoesNotCutTheSecondsLongerWait() {
        Pool<String> p = new Pool<>("hello", 2);
        p.buildStarted();
        p.buildStarted();
        Pool.Backoff first = p.buildFailed("one");
        Pool.Backoff second = p.buildFailed("two");
        assertThat(second.millis()).isGreaterThan(first.millis());

        assertThat(p.backoffOver(first.ticket())).as("the first, shorter timer").isFalse();
        assertThat(p.deficit()).as("still backing off for the second failure").isZero();
        assertThat(p.backoffOver(second.ticket())).isTrue();
        assertThat(p.deficit()).isEqualTo(2);
    }
}
