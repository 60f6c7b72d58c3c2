package io.xenops.ctl.cmd;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** Checks on positional arguments that picocli's types cannot express. */
final class Args {
    private Args() {
    }

    /**
     * An empty id would turn GET /v1/vms/{id} into GET /v1/vms/ and silently list instead of fail.
     * Format checks beyond that are the daemon's: it owns the id and name patterns.
     */
    static String nonBlank(CommandSpec spec, String label, String value) {
        if (value == null || value.isBlank()) {
            throw new ParameterException(spec.commandLine(), label + " must not be empty");
        }
        return value.strip();
    }
}
