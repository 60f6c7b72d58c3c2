package io.xenops.ctl.cmd;

import picocli.CommandLine.Command;

@Command(name = "show", description = "Show one VM: state, result, spawn timings and driver facts.")
public final class ShowCommand extends VmCommand {
    @Override
    void run() {
        renderer().vm(api().getVm(vmId()));
    }
}
