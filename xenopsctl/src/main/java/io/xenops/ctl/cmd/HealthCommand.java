package io.xenops.ctl.cmd;

import io.xenops.ctl.ExitCodes;
import io.xenops.ctl.XenopsCtl;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "health", description = "Check that xenopsd is serving, and show its driver.")
public final class HealthCommand implements Callable<Integer> {
    @ParentCommand
    XenopsCtl root;

    @Override
    public Integer call() {
        root.renderer().health(root.api().health());
        return ExitCodes.OK;
    }
}
