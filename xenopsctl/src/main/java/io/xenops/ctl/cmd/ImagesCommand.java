package io.xenops.ctl.cmd;

import picocli.CommandLine.Command;

@Command(name = "images", description = "List the images this daemon can spawn.")
public final class ImagesCommand extends DaemonCommand {
    @Override
    void run() {
        renderer().images(api().listImages());
    }
}
