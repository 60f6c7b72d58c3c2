package io.xenops.testbed;

import java.time.Duration;

/** What a command run inside dom0 left: its exit status (124 when dom0 killed it on timeout) and output. */
public record CommandResult(int exitCode, String stdout, String stderr, Duration elapsed) {

    public boolean succeeded() {
        return exitCode == 0;
    }

    /** For assertion messages: everything a reader needs to see why a command failed. */
    public String describe() {
        return "exit " + exitCode + " after " + elapsed.toMillis() + " ms\n--- stdout ---\n" + stdout
                + "\n--- stderr ---\n" + stderr;
    }
}
