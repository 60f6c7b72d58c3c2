package io.xenops.ctl.cmd;

import io.xenops.ctl.render.Text;

import java.io.PrintWriter;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The console is text/plain in the API, so --json has no document to pass on: the text is printed
 * either way. Control characters are shown escaped, because the guest wrote them.
 */
@Command(name = "console", description = "Print the tail of a VM's console output.")
public final class ConsoleCommand extends VmCommand {
    @Option(names = "--raw", description = "Print the console bytes unchanged, escape sequences included.")
    boolean raw;

    @Override
    void run() {
        String text = api().console(vmId());
        PrintWriter out = ctl().out();
        out.print(raw ? text : Text.lines(text));
        if (!raw && !text.isEmpty() && !text.endsWith("\n")) {
            out.println();
        }
        out.flush();
    }
}
