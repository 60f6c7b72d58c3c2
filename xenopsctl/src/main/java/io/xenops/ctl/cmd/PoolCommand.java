package io.xenops.ctl.cmd;

import io.xenops.ctl.ExitCodes;
import io.xenops.ctl.XenopsCtl;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "pool", description = "Inspect and size the warm pools of paused VMs.",
        subcommands = {PoolCommand.Ls.class, PoolCommand.Show.class, PoolCommand.Set.class})
public final class PoolCommand implements Callable<Integer> {
    @ParentCommand
    XenopsCtl root;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }

    @Command(name = "ls", description = "List the pools: target size, ready and building VMs, spawn counts.")
    public static final class Ls implements Callable<Integer> {
        @ParentCommand
        PoolCommand pool;

        @Override
        public Integer call() {
            pool.root.renderer().pools(pool.root.api().listPools());
            return ExitCodes.OK;
        }
    }

    @Command(name = "show", description = "Show one image's pool.")
    public static final class Show implements Callable<Integer> {
        @ParentCommand
        PoolCommand pool;

        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "IMAGE", description = "Image name, e.g. hello.")
        String image;

        @Override
        public Integer call() {
            pool.root.renderer().pool(pool.root.api().getPool(Args.nonBlank(spec, "IMAGE", image)));
            return ExitCodes.OK;
        }
    }

    @Command(name = "set", description = {"Set how many paused VMs to keep ready for IMAGE.",
            "Filling (or draining) happens in the background; this returns at once."})
    public static final class Set implements Callable<Integer> {
        @ParentCommand
        PoolCommand pool;

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "IMAGE", description = "Image name, e.g. hello.")
        String image;

        @Parameters(index = "1", paramLabel = "TARGET", description = "Number of paused VMs to keep (0 to 10000).")
        int target;

        @Override
        public Integer call() {
            pool.root.renderer().pool(pool.root.api().setPool(Args.nonBlank(spec, "IMAGE", image), target));
            return ExitCodes.OK;
        }
    }
}
