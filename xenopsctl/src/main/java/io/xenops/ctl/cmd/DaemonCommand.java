package io.xenops.ctl.cmd;

import io.xenops.ctl.ExitCodes;
import io.xenops.ctl.XenopsCtl;
import io.xenops.ctl.api.ApiClient;
import io.xenops.ctl.api.Fetched;
import io.xenops.ctl.api.Task;
import io.xenops.ctl.render.Renderer;

import java.util.concurrent.Callable;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What every command that talks to xenopsd shares. A command only makes its request and shows the
 * answer: a failure is thrown and Cli turns it into one stderr line and an exit code, so a command
 * that returns has succeeded.
 *
 * <p>The client and the renderer belong to the run, built by the top-level command from the global
 * options, so they are reached through the root of the command line, however deep the command sits.
 * They are built on first use, in the order the command asks for them: which usage error wins when
 * both an argument and a global option are wrong stays each command's own.
 */
abstract class DaemonCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** The request and its output. */
    abstract void run();

    @Override
    public final Integer call() {
        run();
        return ExitCodes.OK;
    }

    final XenopsCtl ctl() {
        return (XenopsCtl) spec.root().userObject();
    }

    final ApiClient api() {
        return ctl().api();
    }

    final Renderer renderer() {
        return ctl().renderer();
    }

    /**
     * A positional argument, stripped. An empty id would turn GET /v1/vms/{id} into GET /v1/vms/ and
     * silently list instead of fail. Format checks beyond that are the daemon's: it owns the id and
     * name patterns.
     */
    final String nonBlank(String label, String value) {
        if (value == null || value.isBlank()) {
            throw new ParameterException(spec.commandLine(), label + " must not be empty");
        }
        return value.strip();
    }

    /** Waits for a task the request started, its progress on stderr unless the output is JSON. */
    final Fetched<Task> follow(Fetched<Task> started, String label) {
        TaskFollower.Progress progress = ctl().jsonOutput() ? TaskFollower.Progress.NONE
                : ctl().stderrIsTerminal() ? TaskFollower.Progress.BAR : TaskFollower.Progress.LINES;
        return new TaskFollower(api(), spec.commandLine().getErr(), progress, label).follow(started);
    }
}
