package io.xenops.ctl.cmd;

import io.xenops.ctl.Version;
import io.xenops.ctl.api.ApiException;
import io.xenops.ctl.api.DaemonUnreachableException;
import io.xenops.ctl.api.Fetched;
import io.xenops.ctl.api.Health;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The API has no version endpoint; the daemon's version comes from /v1/health. */
@Command(name = "version", description = "Show the versions of xenopsctl and of the xenopsd it talks to.")
public final class VersionCommand extends DaemonCommand {
    @Option(names = "--client", description = "Only xenopsctl's version; do not contact xenopsd.")
    boolean clientOnly;

    @Override
    void run() {
        String client = Version.current();
        if (clientOnly) {
            renderer().version(client, null);
            return;
        }
        Fetched<Health> health;
        try {
            health = api().health();
        } catch (DaemonUnreachableException | ApiException e) {
            // Still worth knowing which client failed; the error itself goes to stderr.
            renderer().version(client, null);
            throw e;
        }
        renderer().version(client, health);
    }
}
