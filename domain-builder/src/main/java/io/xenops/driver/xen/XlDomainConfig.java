package io.xenops.driver.xen;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The xl.cfg(5) file of one pool member. No disk and no vif: a xenops unikernel has neither, and
 * every device would add backend setup to the build and hotplug work to destroy.
 *
 * <p>All {@code on_*} actions are {@code preserve}: the domain stays in its shutdown state, so the
 * daemon can read the reason (poweroff or crash) with getdomaininfo after {@code @releaseDomain} fires,
 * and then destroys it itself. With {@code destroy} the reason would be gone by the time we look, and
 * {@code restart} would bring back a domain nobody asked for. Since xl is started with {@code -e}
 * (no monitoring process per domain) xl would not act on them anyway; writing them down keeps a
 * manual {@code xl create} of the same file faithful.
 */
public record XlDomainConfig(String name, String uuid, String type, Path kernel, int memoryMiB, int vcpus, String cmdline) {
    private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    // xl.cfg strings are double-quoted with no escapes we want to rely on.
    private static final Pattern SAFE = Pattern.compile("[^\"\\\\\\n\\r]*");

    public XlDomainConfig {
        if (!UUID.matcher(uuid).matches()) throw new IllegalArgumentException("not a lower-case UUID: " + uuid);
        if (!type.equals("pvh") && !type.equals("pv")) throw new IllegalArgumentException("type must be pvh or pv: " + type);
        for (String s : new String[] {name, kernel.toString(), cmdline}) {
            if (!SAFE.matcher(s).matches()) throw new IllegalArgumentException("cannot quote for xl.cfg: " + s);
        }
        if (!kernel.isAbsolute()) throw new IllegalArgumentException("kernel path must be absolute: " + kernel);
    }

    public String render() {
        return String.join("\n",
                "# written by xenopsd; the domain is owned by its state directory",
                "name = \"" + name + "\"",
                "uuid = \"" + uuid + "\"",
                "type = \"" + type + "\"",
                "kernel = \"" + kernel + "\"",
                "cmdline = \"" + cmdline + "\"",
                "memory = " + memoryMiB,
                "maxmem = " + memoryMiB,
                "vcpus = " + vcpus,
                "on_poweroff = \"preserve\"",
                "on_reboot = \"preserve\"",
                "on_crash = \"preserve\"",
                "on_watchdog = \"preserve\"",
                "");
    }
}
