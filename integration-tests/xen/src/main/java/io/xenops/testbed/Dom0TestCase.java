package io.xenops.testbed;

import java.time.Duration;

/**
 * One test that ran inside dom0, as its JUnit XML report tells it.
 *
 * @param className the test class (the report's classname)
 * @param name      the test's display name
 * @param time      how long it took inside dom0
 * @param outcome   what happened
 * @param output    what it printed (system-out and system-err), for failure messages
 */
public record Dom0TestCase(String className, String name, Duration time, Outcome outcome, String output) {

    /** What happened to one in-dom0 test. */
    public sealed interface Outcome permits Passed, Failed, Skipped {
    }

    public record Passed() implements Outcome {
    }

    /**
     * @param kind    "failure" (an assertion) or "error" (any other exception)
     * @param type    the exception class
     * @param message the exception message
     * @param trace   the stack trace as dom0 printed it
     */
    public record Failed(String kind, String type, String message, String trace) implements Outcome {
    }

    public record Skipped(String reason) implements Outcome {
    }
}
