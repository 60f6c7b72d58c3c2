package io.xenops.ctl.cmd;

import picocli.CommandLine.Command;

@Command(name = "destroy", description = "Destroy a VM and everything made for it.")
public final class DestroyCommand extends VmCommand {
    @Override
    void run() {
        String vm = vmId();
        api().destroyVm(vm);
        renderer().destroyed(vm);
    }
}
