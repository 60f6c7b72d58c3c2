package io.xenops.ctl.cmd;

import picocli.CommandLine.Command;

@Command(name = "ls", description = "List the spawned VMs (pooled, paused VMs are not listed; see: pool ls).")
public final class LsCommand extends DaemonCommand {
    @Override
    void run() {
        renderer().vms(api().listVms());
    }
}
