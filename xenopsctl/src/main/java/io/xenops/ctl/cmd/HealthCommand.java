package io.xenops.ctl.cmd;

import picocli.CommandLine.Command;

@Command(name = "health", description = "Check that xenopsd is serving, and show its driver.")
public final class HealthCommand extends DaemonCommand {
    @Override
    void run() {
        renderer().health(api().health());
    }
}
