package io.xenops.daemon.pool;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The paused VMs kept ready for one image, and the bookkeeping of keeping them. A VM leaves the pool
 * exactly once ({@link #take()} or {@link #remove}); nothing ever puts a taken VM back.
 * Not thread-safe: confined to the daemon's control context.
 *
 * @param <V> the daemon's VM handle
 */
public final class Pool<V> {
    private final String image;
    private final ArrayDeque<V> ready = new ArrayDeque<>();
    private int target;
    private int building;
    private long spawnedWarm;
    private long spawnedCold;
    private long buildFailures;
    private int failureStreak;
    private String lastError;
    private boolean backingOff;
    private long backoffTicket;

    /** When to try building again after a failure, and which failure asked for it (see {@link #backoffOver}). */
    public record Backoff(long millis, long ticket) {}

    public Pool(String image, int target) {
        this.image = image;
        this.target = target;
    }

    public String image() { return image; }

    public int target() { return target; }

    public void setTarget(int target) {
        if (target < 0) throw new IllegalArgumentException("target must not be negative");
        this.target = target;
    }

    /** The oldest ready VM, removed from the pool; null when empty. */
    public V take() {
        V v = ready.pollFirst();
        if (v != null) spawnedWarm++;
        return v;
    }

    public void countCold() { spawnedCold++; }

    /** Removes a VM that left the pool some other way (it exited, or is being trimmed). */
    public boolean remove(V v) { return ready.remove(v); }

    /** How many more builds should start now to reach the target. */
    public int deficit() { return backingOff ? 0 : Math.max(0, target - ready.size() - building); }

    /** VMs over the target that should be destroyed, newest first so the oldest (warmest) stay. */
    public List<V> surplus() {
        List<V> out = new ArrayList<>();
        int extra = ready.size() - target;
        Iterator<V> it = ready.descendingIterator();
        while (extra-- > 0 && it.hasNext()) {
            out.add(it.next());
            it.remove();
        }
        return out;
    }

    public void buildStarted() { building++; }

    /** A build finished well; returns false if the pool no longer wants the VM (its target shrank). */
    public boolean buildSucceeded(V v) {
        building--;
        failureStreak = 0;
        if (ready.size() >= target) return false;
        ready.addLast(v);
        return true;
    }

    /** A build failed; returns the backoff before the next attempt (100 ms doubling to 30 s) and its ticket. */
    public Backoff buildFailed(String error) {
        building--;
        buildFailures++;
        lastError = error;
        failureStreak++;
        backingOff = true;
        return new Backoff(Math.min(30_000L, 100L << Math.min(failureStreak - 1, 9)), ++backoffTicket);
    }

    /**
     * The backoff of the failure holding {@code ticket} has run out. Only the latest failure's ends it: when
     * builds fail together, the first one's shorter timer must not cut the longer wait that the next asked for.
     *
     * @return whether the pool may build again
     */
    public boolean backoffOver(long ticket) {
        if (ticket != backoffTicket) return false;
        backingOff = false;
        return true;
    }

    public int readyCount() { return ready.size(); }

    public int building() { return building; }

    public boolean contains(V v) { return ready.contains(v); }

    public void adopt(V v) { ready.addLast(v); }

    public PoolView view() {
        return new PoolView(image, target, ready.size(), building, spawnedWarm, spawnedCold, buildFailures, lastError);
    }
}
