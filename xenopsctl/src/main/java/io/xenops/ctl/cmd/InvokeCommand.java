package io.xenops.ctl.cmd;

import io.xenops.ctl.api.InvocationRequest;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "invoke", description = {
        "Call IMAGE as a function: the daemon takes a VM, hands it the input, returns its output and "
                + "destroys the VM.",
        "Prints the output (control characters escaped)."})
public final class InvokeCommand extends DaemonCommand {
    @Parameters(paramLabel = "IMAGE", description = "Image name, e.g. hello (see: xenopsctl image ls).")
    String image;

    @Option(names = "--input", paramLabel = "TEXT",
            description = "Handed to the guest application (printable ASCII, up to 900 characters).")
    String input;

    @Option(names = "--timeout-ms", paramLabel = "N",
            description = "How long the daemon waits for the output before failing (daemon default 10000).")
    Integer timeoutMs;

    @Override
    void run() {
        String name = nonBlank("IMAGE", image);
        renderer().invoked(api().invoke(new InvocationRequest(name, input, timeoutMs)));
    }
}
