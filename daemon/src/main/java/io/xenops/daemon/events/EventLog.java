package io.xenops.daemon.events;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A bounded, in-memory log of events with ids. Confined to the daemon's control context.
 * Readers resume from an id; when the log has dropped events they missed, the page says so
 * ({@code truncated}) and the reader re-reads current state, as Xenopsd clients do after a barrier.
 *
 * <p>Ids start above the wall-clock milliseconds at start, so ids from an earlier daemon life are never
 * mistaken for recent ones after a restart: a reader with an old id sees {@code truncated}.
 */
public final class EventLog {
    /** Events after {@code since}; {@code next} is the id to resume from. */
    public record Page(List<Event> events, long next, boolean truncated) {}

    private final int capacity;
    private final Clock clock;
    private final ArrayDeque<Event> events;
    private final List<Consumer<Event>> subscribers = new ArrayList<>();
    private final long firstId;
    private long lastId;

    public EventLog(int capacity, Clock clock) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be positive");
        this.capacity = capacity;
        this.clock = clock;
        this.events = new ArrayDeque<>(Math.min(capacity, 4096));
        this.lastId = clock.millis() * 1000;
        this.firstId = lastId + 1;
    }

    public Event publish(String kind, String subject) {
        Event e = new Event(++lastId, kind, subject, clock.instant());
        if (events.size() == capacity) events.pollFirst();
        events.addLast(e);
        // Copy: a subscriber may unsubscribe itself while being told.
        for (Consumer<Event> s : List.copyOf(subscribers)) s.accept(e);
        return e;
    }

    public long lastId() { return lastId; }

    /**
     * Events with an id above {@code since}, at most {@code max}. {@code since} of -1 means "from now":
     * no events, and the id to resume from.
     */
    public Page since(long since, int max) {
        if (since < 0) return new Page(List.of(), lastId, false);
        boolean truncated;
        if (since > lastId || since < firstId - 1) {
            truncated = true; // not an id of this daemon's life
        } else {
            long oldestKept = events.isEmpty() ? lastId + 1 : events.peekFirst().id();
            truncated = oldestKept > since + 1; // the ring dropped some the reader has not seen
        }
        long after = truncated ? Long.MIN_VALUE : since;
        List<Event> out = new ArrayList<>();
        for (Event e : events) {
            if (e.id() > after && out.size() < max) out.add(e);
        }
        long next = !out.isEmpty() ? out.getLast().id() : truncated ? lastId : since;
        return new Page(out, next, truncated);
    }

    /** Calls {@code s} for every event published from now on, until the returned action runs. */
    public Runnable subscribe(Consumer<Event> s) {
        subscribers.add(s);
        return () -> subscribers.remove(s);
    }
}
