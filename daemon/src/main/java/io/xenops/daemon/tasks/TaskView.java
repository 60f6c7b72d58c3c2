package io.xenops.daemon.tasks;

import io.xenops.daemon.error.XenopsException;
import java.time.Instant;

/** A snapshot of a task. {@code result} is a view object of the operation (a VmView, a PoolView). */
public record TaskView(String id, String kind, String subject, Task.State state, double progress, Object result,
                       XenopsException error, Instant createdAt, Instant finishedAt) {}
