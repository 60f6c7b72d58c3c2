package io.xenops.ctl.cmd;

import io.xenops.ctl.ExitCodes;
import io.xenops.ctl.XenopsCtl;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "images", description = "List the images this daemon can spawn.")
public final class ImagesCommand implements Callable<Integer> {
    @ParentCommand
    XenopsCtl root;

    @Override
    public Integer call() {
        root.renderer().images(root.api().listImages());
        return ExitCodes.OK;
    }
}
