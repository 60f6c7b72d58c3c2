package io.xenops.daemon;

import io.xenops.daemon.config.ConfigException;
import io.xenops.daemon.config.DaemonConfig;
import io.xenops.driver.Driver;
import io.xenops.driver.sim.SimDriver;
import io.xenops.image.Image;
import java.util.List;

/** Picks and builds the hypervisor driver the configuration asks for. */
public class Drivers {
    /** The driver, and the acceleration it uses (for QEMU: kvm or tcg), for logs and /v1/health. */
    public record Selected(Driver driver, String accel) {}

    public Selected create(DaemonConfig config, List<Image> images) {
        return switch (config.driver()) {
            case "sim" -> new Selected(new SimDriver(SimDriver.Faults.none()), "none");
            default -> throw new ConfigException("driver '" + config.driver() + "' is not available in this build");
        };
    }
}
