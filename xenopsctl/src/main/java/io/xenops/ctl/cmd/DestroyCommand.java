package io.xenops.ctl.cmd;

import io.xenops.ctl.ExitCodes;
import io.xenops.ctl.XenopsCtl;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "destroy", description = "Destroy a VM and everything made for it.")
public final class DestroyCommand implements Callable<Integer> {
    @ParentCommand
    XenopsCtl root;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "ID", description = "VM id, e.g. vm-3f9c2a7b1d04.")
    String id;

    @Override
    public Integer call() {
        String vm = Args.nonBlank(spec, "ID", id);
        root.api().destroyVm(vm);
        root.renderer().destroyed(vm);
        return ExitCodes.OK;
    }
}
