package io.xenops.daemon.tasks;

import io.xenops.daemon.error.XenopsException;
import io.xenops.daemon.events.EventLog;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Running tasks and the most recent finished ones (bounded). Every change publishes {@code task.changed}.
 * Confined to the daemon's control context.
 */
public final class TaskRegistry {
    private final Map<String, Task> tasks = new LinkedHashMap<>();
    private final ArrayDeque<String> finished = new ArrayDeque<>();
    private final int keepFinished;
    private final EventLog events;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    public TaskRegistry(int keepFinished, EventLog events, Clock clock) {
        this.keepFinished = keepFinished;
        this.events = events;
        this.clock = clock;
    }

    /** Starts tracking an operation; {@code onCancel} undoes or stops it when a client cancels. */
    public Task start(String kind, String subject, Runnable onCancel) {
        byte[] b = new byte[6];
        String id;
        do {
            random.nextBytes(b);
            id = "task-" + HexFormat.of().formatHex(b);
        } while (tasks.containsKey(id));
        Task t = new Task(id, kind, subject, clock.instant(), onCancel);
        tasks.put(id, t);
        events.publish("task.changed", id);
        return t;
    }

    public void progress(Task t, double p) {
        if (!t.running()) return;
        double clamped = Math.max(0, Math.min(1, p));
        if (clamped == t.progress) return;
        t.progress = clamped;
        events.publish("task.changed", t.id);
    }

    public void succeed(Task t, Object result) {
        if (!t.running()) return;
        t.progress = 1;
        t.result = result;
        finish(t, Task.State.SUCCEEDED);
    }

    public void fail(Task t, XenopsException error) {
        if (!t.running()) return;
        t.error = error;
        finish(t, Task.State.FAILED);
    }

    /** Cancels a running task; a finished one is left as it is. */
    public TaskView cancel(String id) {
        Task t = require(id);
        if (t.running()) {
            finish(t, Task.State.CANCELLED);
            t.onCancel.run();
        }
        return t.view();
    }

    public TaskView get(String id) { return require(id).view(); }

    public List<TaskView> list() { return tasks.values().stream().map(Task::view).toList(); }

    private Task require(String id) {
        Task t = tasks.get(id);
        if (t == null) throw new XenopsException.NotFound("no task " + id);
        return t;
    }

    private void finish(Task t, Task.State state) {
        t.state = state;
        t.finishedAt = clock.instant();
        finished.addLast(t.id);
        while (finished.size() > keepFinished) tasks.remove(finished.pollFirst());
        events.publish("task.changed", t.id);
    }
}
