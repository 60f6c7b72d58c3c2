package io.xenops.ctl.cmd;

import io.xenops.ctl.api.Fetched;
import io.xenops.ctl.api.SpawnRequest;
import io.xenops.ctl.api.Vm;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "spawn", description = {
        "Spawn a VM of IMAGE: from its warm pool, or built cold when the pool is empty.",
        "Prints the VM's id and state, then the spawn's timings."})
public final class SpawnCommand extends DaemonCommand {

    /** Lower-case constants so picocli accepts and completes exactly the API's values. */
    public enum Wait { running, ready }

    @Parameters(paramLabel = "IMAGE", description = "Image name, e.g. hello (see: xenopsctl images).")
    String image;

    @Option(names = "--wait", paramLabel = "running|ready",
            description = "Answer once the VM is resumed (running, the daemon's default) or once the guest "
                    + "has confirmed it runs and returned any result (ready).")
    Wait wait;

    @Option(names = "--args", paramLabel = "TEXT",
            description = "Input handed to the guest after resume (printable ASCII, up to 900 characters).")
    String args;

    @Option(names = "--timeout-ms", paramLabel = "N",
            description = "How long the daemon waits for ready (and a result) before failing (daemon default 10000).")
    Integer timeoutMs;

    @Option(names = {"-q", "--quiet"}, description = "Print only the VM's id, e.g. id=$(xenopsctl spawn -q hello).")
    boolean quiet;

    @Override
    void run() {
        String name = nonBlank("IMAGE", image);
        Fetched<Vm> vm = api().spawn(new SpawnRequest(name, wait == null ? null : wait.name(), args, timeoutMs));
        if (quiet) {
            ctl().out().println(vm.value().id());
            ctl().out().flush();
        } else {
            renderer().spawned(vm);
        }
    }
}
