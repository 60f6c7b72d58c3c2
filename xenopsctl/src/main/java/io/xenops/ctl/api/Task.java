package io.xenops.ctl.api;

/**
 * A daemon task (pull, push, ...). {@code result} is read through {@link TaskResult}, which holds
 * the fields of both results the CLI follows; the rest of a result is skipped.
 */
public record Task(String id, String kind, String subject, String state, Double progress, TaskResult result,
                   Problem error, String createdAt, String finishedAt) {
    public static final String RUNNING = "running";
    public static final String SUCCEEDED = "succeeded";

    public boolean running() {
        return RUNNING.equals(state);
    }
}
