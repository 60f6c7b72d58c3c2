package io.xenops.ctl;

import io.xenops.ctl.api.ApiException;
import io.xenops.ctl.api.DaemonUnreachableException;
import io.xenops.ctl.api.UnexpectedResponseException;

import java.io.PrintWriter;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Wires the command tree: error handling that turns each failure into one stderr line and an exit
 * code, and the completion generator. Main and the tests both run the CLI through here.
 */
public final class Cli {
    private Cli() {
    }

    public static CommandLine build(XenopsCtl root) {
        CommandLine cl = new CommandLine(root);
        CommandLine completion = new CommandLine(new AutoComplete.GenerateCompletion());
        // picocli hides this command by default; operators should find it in --help.
        completion.getCommandSpec().usageMessage().hidden(false);
        cl.addSubcommand("generate-completion", completion);
        cl.setParameterExceptionHandler(Cli::usageError);
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> failure(root, ex, cmd.getErr()));
        return cl;
    }

    /** Runs one command line and returns its exit code; releases the HTTP client either way. */
    public static int run(XenopsCtl root, PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = build(root);
        cl.setOut(out);
        cl.setErr(err);
        try {
            return cl.execute(args);
        } finally {
            root.close();
            out.flush();
            err.flush();
        }
    }

    private static int usageError(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("xenopsctl: " + ex.getMessage());
        UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        return ExitCodes.USAGE;
    }

    private static int failure(XenopsCtl root, Exception ex, PrintWriter err) {
        return switch (ex) {
            case ApiException api -> {
                err.println("xenopsctl: " + api.getMessage());
                if (api.problem() != null && api.problem().requestId() != null) {
                    err.println("  request id: " + api.problem().requestId());
                }
                root.renderer().problem(api);
                yield ExitCodes.API_ERROR;
            }
            case DaemonUnreachableException down -> {
                err.println("xenopsctl: " + down.getMessage());
                yield ExitCodes.UNREACHABLE;
            }
            case UnexpectedResponseException odd -> {
                err.println("xenopsctl: " + odd.getMessage());
                yield ExitCodes.API_ERROR;
            }
            default -> {
                // A bug in xenopsctl, not a daemon answer: say so, and show where when asked to.
                err.println("xenopsctl: internal error: " + ex);
                if (root.env("XENOPS_DEBUG") != null) {
                    ex.printStackTrace(err);
                } else {
                    err.println("  (set XENOPS_DEBUG=1 to see the stack trace)");
                }
                yield ExitCodes.API_ERROR;
            }
        };
    }
}
