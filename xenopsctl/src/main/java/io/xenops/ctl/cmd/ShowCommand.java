package io.xenops.ctl.cmd;

import io.xenops.ctl.ExitCodes;
import io.xenops.ctl.XenopsCtl;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "show", description = "Show one VM: state, result, spawn timings and driver facts.")
public final class ShowCommand implements Callable<Integer> {
    @ParentCommand
    XenopsCtl root;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "ID", description = "VM id, e.g. vm-3f9c2a7b1d04.")
    String id;

    @Override
    public Integer call() {
        root.renderer().vm(root.api().getVm(Args.nonBlank(spec, "ID", id)));
        return ExitCodes.OK;
    }
}
