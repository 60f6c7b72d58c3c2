package io.xenops.daemon.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventLogTest {
    private final EventLog log = new EventLog(3, Clock.fixed(Instant.ofEpochSecond(1_000), ZoneOffset.UTC));

    @Test
    void readersResumeAfterTheLastIdTheySaw() {
        long start = log.since(-1, 10).next();
        Event a = log.publish("vm.running", "vm-1");
        Event b = log.publish("vm.exited", "vm-1");
        EventLog.Page p = log.since(start, 10);
        assertThat(p.events()).containsExactly(a, b);
        assertThat(p.truncated()).isFalse();
        assertThat(log.since(p.next(), 10).events()).isEmpty();
        assertThat(log.since(a.id(), 10).events()).containsExactly(b);
        assertThat(b.id()).isGreaterThan(a.id());
    }

    @Test
    void aReaderThatFellBehindTheRingIsToldToResync() {
        long start = log.since(-1, 10).next();
        for (int i = 0; i < 5; i++) log.publish("pool.changed", "hello");
        EventLog.Page p = log.since(start, 10);
        assertThat(p.truncated()).isTrue();
        assertThat(p.events()).hasSize(3);
        assertThat(p.next()).isEqualTo(log.lastId());
    }

    @Test
    void idsFromAnotherDaemonLifeAreTruncated() {
        log.publish("vm.running", "vm-1");
        assertThat(log.since(log.lastId() + 100, 10).truncated()).isTrue();
        assertThat(log.since(5, 10).truncated()).isTrue();
    }

    @Test
    void pagesAreBoundedAndSubscribersHearEverythingUntilTheyLeave() {
        List<Event> heard = new ArrayList<>();
        Runnable leave = log.subscribe(heard::add);
        long start = log.since(-1, 10).next();
        log.publish("a", "x");
        log.publish("b", "x");
        assertThat(log.since(start, 1).events()).hasSize(1);
        leave.run();
        log.publish("c", "x");
        assertThat(heard).extracting(Event::kind).containsExactly("a", "b");
    }
}
