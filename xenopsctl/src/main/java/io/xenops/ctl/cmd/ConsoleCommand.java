package io.xenops.ctl.cmd;

import io.xenops.ctl.ExitCodes;
import io.xenops.ctl.XenopsCtl;
import io.xenops.ctl.render.Text;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * The console is text/plain in the API, so --json has no document to pass on: the text is printed
 * either way. Control characters are shown escaped, because the guest wrote them.
 */
@Command(name = "console", description = "Print the tail of a VM's console output.")
public final class ConsoleCommand implements Callable<Integer> {
    @ParentCommand
    XenopsCtl root;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "ID", description = "VM id, e.g. vm-3f9c2a7b1d04.")
    String id;

    @Option(names = "--raw", description = "Print the console bytes unchanged, escape sequences included.")
    boolean raw;

    @Override
    public Integer call() {
        String text = root.api().console(Args.nonBlank(spec, "ID", id));
        PrintWriter out = root.out();
        out.print(raw ? text : Text.lines(text));
        if (!raw && !text.isEmpty() && !text.endsWith("\n")) {
            out.println();
        }
        out.flush();
        return ExitCodes.OK;
    }
}
