package io.xenops.ctl.cmd;

import io.xenops.ctl.api.ApiClient;
import io.xenops.ctl.api.ApiException;
import io.xenops.ctl.api.Fetched;
import io.xenops.ctl.api.Problem;
import io.xenops.ctl.api.Task;

import java.io.PrintWriter;
import java.time.Duration;

/**
 * Follows a daemon task to its end by polling GET /v1/tasks/{id}, drawing its progress on stderr.
 * Polling (rather than the event stream) keeps the CLI to one short request at a time; every
 * 100 ms is cheap for the daemon and quick enough for a person watching.
 */
final class TaskFollower {
    static final Duration POLL_INTERVAL = Duration.ofMillis(100);
    private static final int BAR_WIDTH = 30;

    /** How progress is shown: a redrawn bar on a terminal, a line per 10 % in a log, nothing for --json. */
    enum Progress { BAR, LINES, NONE }

    private final ApiClient api;
    private final PrintWriter err;
    private final Progress progress;
    private final String label;
    private int lastShown = -1;

    TaskFollower(ApiClient api, PrintWriter err, Progress progress, String label) {
        this.api = api;
        this.err = err;
        this.progress = progress;
        this.label = label;
    }

    /**
     * Polls until the task is no longer running. While it runs, Ctrl-C cancels it on the daemon
     * (a pull left behind would go on downloading for nobody).
     *
     * @return the finished task, when it succeeded
     * @throws ApiException the task's error problem when it failed or was cancelled
     */
    Fetched<Task> follow(Fetched<Task> started) {
        Task task = started.value();
        Thread hook = cancelHook(api, task.id(), err);
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Fetched<Task> current = started;
            while (task.running()) {
                show(task);
                sleep();
                current = api.getTask(task.id());
                task = current.value();
            }
            finish(task);
            if (!Task.SUCCEEDED.equals(task.state())) {
                throw failure(task, current.body());
            }
            return current;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C came in after the task ended: the hook runs, and cancelling a finished task is harmless.
            }
        }
    }

    /** The Ctrl-C handler: cancel the task, and say so, since the daemon would otherwise go on. */
    static Thread cancelHook(ApiClient api, String taskId, PrintWriter err) {
        return new Thread(() -> {
            try {
                api.cancelTask(taskId);
                err.println();
                err.println("xenopsctl: cancelled task " + taskId);
            } catch (RuntimeException e) {
                err.println();
                err.println("xenopsctl: could not cancel task " + taskId + ": " + e.getMessage());
            }
            err.flush();
        }, "xenopsctl-cancel-" + taskId);
    }

    private void show(Task task) {
        int percent = percent(task);
        switch (progress) {
            case BAR -> {
                int filled = percent * BAR_WIDTH / 100;
                err.print("\r" + label + " [" + "#".repeat(filled) + " ".repeat(BAR_WIDTH - filled) + "] "
                        + String.format("%3d%%", percent));
                err.flush();
            }
            case LINES -> {
                if (lastShown < 0 || percent / 10 > lastShown / 10) {
                    err.println(label + ": " + percent + "%");
                    err.flush();
                }
            }
            case NONE -> {
                return;
            }
        }
        lastShown = percent;
    }

    private void finish(Task task) {
        if (progress == Progress.NONE) {
            return;
        }
        if (Task.SUCCEEDED.equals(task.state()) && lastShown < 100) {
            show(new Task(task.id(), task.kind(), task.subject(), Task.RUNNING, 1.0, null, null, null, null));
        }
        if (progress == Progress.BAR && lastShown >= 0) {
            err.println();
            err.flush();
        }
    }

    private static int percent(Task task) {
        double p = task.progress() == null ? 0 : task.progress();
        return (int) Math.floor(Math.max(0, Math.min(1, p)) * 100);
    }

    private static ApiException failure(Task task, String body) {
        Problem problem = task.error();
        if (problem == null) {
            // A cancelled task carries no problem; make one so the message says what happened.
            problem = new Problem(null, "task " + task.id() + " " + task.state(), null, null, null, null);
        }
        int status = problem.status() == null ? 500 : problem.status();
        return new ApiException(status, problem, body);
    }

    private static void sleep() {
        try {
            Thread.sleep(POLL_INTERVAL);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while following a task", e);
        }
    }
}
