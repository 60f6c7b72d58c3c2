package io.xenops.ctl.cmd;

import io.xenops.ctl.ExitCodes;
import io.xenops.ctl.XenopsCtl;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "ls", description = "List the spawned VMs (pooled, paused VMs are not listed; see: pool ls).")
public final class LsCommand implements Callable<Integer> {
    @ParentCommand
    XenopsCtl root;

    @Override
    public Integer call() {
        root.renderer().vms(root.api().listVms());
        return ExitCodes.OK;
    }
}
