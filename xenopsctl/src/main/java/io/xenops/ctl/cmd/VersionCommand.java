package io.xenops.ctl.cmd;

import io.xenops.ctl.ExitCodes;
import io.xenops.ctl.Version;
import io.xenops.ctl.XenopsCtl;
import io.xenops.ctl.api.ApiException;
import io.xenops.ctl.api.DaemonUnreachableException;
import io.xenops.ctl.api.Fetched;
import io.xenops.ctl.api.Health;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** The API has no version endpoint; the daemon's version comes from /v1/health. */
@Command(name = "version", description = "Show the versions of xenopsctl and of the xenopsd it talks to.")
public final class VersionCommand implements Callable<Integer> {
    @ParentCommand
    XenopsCtl root;

    @Option(names = "--client", description = "Only xenopsctl's version; do not contact xenopsd.")
    boolean clientOnly;

    @Override
    public Integer call() {
        String client = Version.current();
        if (clientOnly) {
            root.renderer().version(client, null);
            return ExitCodes.OK;
        }
        Fetched<Health> health;
        try {
            health = root.api().health();
        } catch (DaemonUnreachableException | ApiException e) {
            // Still worth knowing which client failed; the error itself goes to stderr.
            root.renderer().version(client, null);
            throw e;
        }
        root.renderer().version(client, health);
        return ExitCodes.OK;
    }
}
