package io.xenops.ctl.cmd;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "pool", description = "Inspect and size the warm pools of paused VMs.",
        subcommands = {PoolCommand.Ls.class, PoolCommand.Show.class, PoolCommand.Set.class})
public final class PoolCommand extends GroupCommand {
    @Command(name = "ls", description = "List the pools: target size, ready and building VMs, spawn counts.")
    public static final class Ls extends DaemonCommand {
        @Override
        void run() {
            renderer().pools(api().listPools());
        }
    }

    @Command(name = "show", description = "Show one image's pool.")
    public static final class Show extends DaemonCommand {
        @Parameters(paramLabel = "IMAGE", description = "Image name, e.g. hello.")
        String image;

        @Override
        void run() {
            renderer().pool(api().getPool(nonBlank("IMAGE", image)));
        }
    }

    @Command(name = "set", description = {"Set how many paused VMs to keep ready for IMAGE.",
            "Filling (or draining) happens in the background; this returns at once."})
    public static final class Set extends DaemonCommand {
        @Parameters(index = "0", paramLabel = "IMAGE", description = "Image name, e.g. hello.")
        String image;

        @Parameters(index = "1", paramLabel = "TARGET", description = "Number of paused VMs to keep (0 to 10000).")
        int target;

        @Override
        void run() {
            renderer().pool(api().setPool(nonBlank("IMAGE", image), target));
        }
    }
}
