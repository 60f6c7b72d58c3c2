package io.xenops.daemon.tasks;

import io.xenops.daemon.error.XenopsException;
import java.time.Instant;

/**
 * A long operation a client can watch, cancel and collect the result of. Confined to the control context;
 * clients see {@link TaskView} snapshots.
 */
public final class Task {
    public enum State { RUNNING, SUCCEEDED, FAILED, CANCELLED }

    final String id;
    final String kind;
    final String subject;
    final Instant createdAt;
    final Runnable onCancel;
    State state = State.RUNNING;
    double progress;
    Object result;
    XenopsException error;
    Instant finishedAt;

    Task(String id, String kind, String subject, Instant createdAt, Runnable onCancel) {
        this.id = id;
        this.kind = kind;
        this.subject = subject;
        this.createdAt = createdAt;
        this.onCancel = onCancel;
    }

    public String id() { return id; }

    public boolean running() { return state == State.RUNNING; }

    public TaskView view() {
        return new TaskView(id, kind, subject, state, progress, result, error, createdAt, finishedAt);
    }
}
