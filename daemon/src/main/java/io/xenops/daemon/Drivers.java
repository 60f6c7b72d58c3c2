package io.xenops.daemon;

import io.xenops.daemon.config.ConfigException;
import io.xenops.daemon.config.DaemonConfig;
import io.xenops.driver.Driver;
import io.xenops.driver.DriverException;
import io.xenops.driver.libvirt.LibvirtConfig;
import io.xenops.driver.libvirt.LibvirtDriver;
import io.xenops.driver.qemu.AccelChoice;
import io.xenops.driver.qemu.QemuConfig;
import io.xenops.driver.qemu.QemuDriver;
import io.xenops.driver.sim.SimDriver;
import io.xenops.driver.xen.XenConfig;
import io.xenops.driver.xen.XenDriver;
import io.xenops.image.Image;
import java.util.List;
import java.util.Locale;

/** Picks and builds the hypervisor driver the configuration asks for. */
public class Drivers {
    /** The driver, and the acceleration it uses (for QEMU: kvm or tcg), for logs and /v1/health. */
    public record Selected(Driver driver, String accel) {}

    private final java.util.function.Consumer<String> xenstoreLost;

    /** In production: a lost xenstored ends the process with status 3 (see {@link #xen}). */
    public Drivers() {
        this(Drivers::exitForRestart);
    }

    /** @param xenstoreLost told, once, why the Xen driver cannot go on (tests replace the exit) */
    public Drivers(java.util.function.Consumer<String> xenstoreLost) {
        this.xenstoreLost = xenstoreLost;
    }

    private static void exitForRestart(String why) {
        System.getLogger(Drivers.class.getName()).log(System.Logger.Level.ERROR, why);
        System.err.println("xenopsd: " + why);
        // Not on the XenStore reader's thread: exit runs the shutdown hook, which closes that connection.
        Thread.ofPlatform().name("xenopsd-exit").start(() -> System.exit(3));
    }

    public Selected create(DaemonConfig config, List<Image> images) {
        return switch (config.driver()) {
            case "sim" -> new Selected(new SimDriver(SimDriver.Faults.none()), "none");
            case "auto" -> xenHere() ? xen(config) : qemu(config, images);
            case "qemu" -> qemu(config, images);
            case "xen" -> xen(config);
            case "libvirt" -> libvirt(config);
            default -> throw new ConfigException("driver '" + config.driver() + "' is not available in this build");
        };
    }

    /** A Xen host: dom0 with the privileged command device and a running xenstored. */
    static boolean xenHere() {
        return java.nio.file.Files.exists(java.nio.file.Path.of("/dev/xen/privcmd"))
                && java.nio.file.Files.exists(java.nio.file.Path.of("/run/xenstored/socket"));
    }

    private Selected xen(DaemonConfig config) {
        XenDriver driver;
        try {
            driver = XenDriver.open(XenConfig.defaults(config.stateDir()));
        } catch (java.io.IOException | RuntimeException e) {
            throw new ConfigException("Xen cannot run VMs here: " + e.getMessage());
        }
        // A xenstored that goes away takes every watch with it (exits, guests' messages, consoles): carrying
        // on would mean a daemon that looks healthy and notices nothing. Ending lets the supervisor start a
        // fresh one, which connects to the new xenstored and re-adopts (or cleans) what it recorded.
        driver.xenstoreClosed().whenComplete((v, err) -> {
            if (err != null) {
                xenstoreLost.accept("lost the connection to xenstored (" + err.getMessage() + "); exiting so that the "
                        + "supervisor restarts xenopsd, which re-adopts its domains");
            }
        });
        return new Selected(driver, "xen");
    }

    private static Selected libvirt(DaemonConfig config) {
        try {
            // Connects at once, so a missing libvirtd is a start-up error, not a failed first spawn.
            LibvirtDriver d = new LibvirtDriver(LibvirtConfig.defaults(config.libvirtUri(), config.stateDir().resolve("libvirt")));
            return new Selected(d, "libvirt " + config.libvirtUri());
        } catch (DriverException e) {
            throw new ConfigException("libvirt at " + config.libvirtUri() + ": " + e.getMessage());
        }
    }

    private static Selected qemu(DaemonConfig config, List<Image> images) {
        QemuConfig qc = QemuConfig.defaults(config.stateDir())
                .withQemuBinary(config.qemuBinary())
                .withAccel(QemuConfig.Accel.valueOf(config.accel().toUpperCase(Locale.ROOT)))
                .withCreateTimeout(config.bootTimeout());
        // Proving KVM by booting a real image to READY is the only test kvm-pvm cannot fool.
        if (!images.isEmpty()) qc = qc.withProbeKernel(images.getFirst().kernel());
        QemuDriver driver = new QemuDriver(qc);
        AccelChoice choice;
        try {
            choice = driver.accel(); // at start, once: never on a request's path
        } catch (RuntimeException e) {
            driver.close();
            Throwable cause = e.getCause() instanceof DriverException d ? d : e;
            throw new ConfigException("QEMU cannot run VMs here: " + cause.getMessage());
        }
        return new Selected(driver, choice.accel());
    }
}
