package io.xenops.ctl.cmd;

import picocli.CommandLine.Parameters;

/** A command about one spawned VM, named by its id. */
abstract class VmCommand extends DaemonCommand {
    @Parameters(paramLabel = "ID", description = "VM id, e.g. vm-3f9c2a7b1d04.")
    String id;

    final String vmId() {
        return nonBlank("ID", id);
    }
}
