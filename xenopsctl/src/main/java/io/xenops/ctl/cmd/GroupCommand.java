package io.xenops.ctl.cmd;

import io.xenops.ctl.ExitCodes;

import java.util.concurrent.Callable;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A command that only groups others: run bare, it shows what there is to do, as a usage error so scripts notice. */
abstract class GroupCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public final Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }
}
